const t0 = performance.now();
const sdl = await import('/work/wt-cli/dist/src/sdl/index.js');
const t1 = performance.now();
const fs = await import('node:fs');
const text = fs.readFileSync(process.argv[2]);
const r = sdl.parseSdl(text); sdl.goJson(r.value.manifest, '  ');
const t2 = performance.now();
for (let i = 0; i < 20; i++) { const r = sdl.parseSdl(text); sdl.goJson(r.value.manifest, '  '); }
const t3 = performance.now();
const times = [];
for (let i = 0; i < 20; i++) { const s = performance.now(); const r = sdl.parseSdl(text); sdl.goJson(r.value.manifest, '  '); times.push(performance.now() - s); }
times.sort((a, b) => a - b);
console.log(`import=${(t1-t0).toFixed(0)} cold=${(t2-t1).toFixed(0)} warm=${times[10].toFixed(1)}`);
