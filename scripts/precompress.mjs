// Writes .br and .gz next to each .js, .wasm and .css file in a folder, so the
// server can send them precompressed (tower-http ServeDir).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const dir = process.argv[2];
for (const name of readdirSync(dir)) {
  if (!/\.(js|wasm|css)$/.test(name)) continue;
  const data = readFileSync(join(dir, name));
  writeFileSync(join(dir, name + '.br'), brotliCompressSync(data, {
    params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: data.length },
  }));
  writeFileSync(join(dir, name + '.gz'), gzipSync(data, { level: 9 }));
}
