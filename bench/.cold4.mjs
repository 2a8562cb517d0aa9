const z = await import("zod"); if (process.env.JITLESS) z.config({ jitless: true });
const cpu = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };
const c0 = cpu();
const sdl = await import('/work/wt-cli/dist/src/sdl/index.js');
const c1 = cpu();
const fs = await import('node:fs');
const text = fs.readFileSync(process.argv[2]);
const r = sdl.parseSdl(text); sdl.goJson(r.value.manifest, '  ');
const c2 = cpu();
for (let i = 0; i < 20; i++) { const r = sdl.parseSdl(text); sdl.goJson(r.value.manifest, '  '); }
const c3 = cpu();
for (let i = 0; i < 20; i++) { const r = sdl.parseSdl(text); sdl.goJson(r.value.manifest, '  '); }
const c4 = cpu();
console.log(`zodimport=${c0.toFixed(0)} import=${(c1-c0).toFixed(0)} cold=${(c2-c1).toFixed(0)} warm=${((c4-c3)/20).toFixed(1)}`);
