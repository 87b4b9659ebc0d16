/** Decoding of the WebAssembly modules committed as base64 (`*.generated.ts`). */

/** The bytes of a base64 string (atob: in browsers and Node alike). */
export function decodeBase64(s: string): Uint8Array<ArrayBuffer> {
  const bin = atob(s);
  const out = new Uint8Array(new ArrayBuffer(bin.length));
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
