import { readFileSync } from 'node:fs';
const sdl = await import('/work/wt-cli/dist/src/sdl/index.js');
const text = readFileSync(process.argv[2]);
const r = sdl.parseSdl(text); sdl.goJson(r.value.manifest, '  ');
