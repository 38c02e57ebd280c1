/** What the scrubber writes over every byte of a key's spelling: same length, so Content-Length holds. */
const FILL = "*";

/** Encoded spellings shorter than this are not scrubbed: they would match ordinary text (a key is far longer). */
const MIN_ENCODED_LENGTH = 8;

/**
 * The spellings of a key an upstream may echo: as sent, URL-encoded (as `encodeURIComponent` and as
 * form encoding do, with upper- and lower-case hex, space as `%20` and as `+`), and base64 and
 * base64url. Base64 encodes 3 bytes at a time, so the key's characters depend on where it starts
 * in the encoded text: each of the three offsets gives the characters made of the key's bits alone.
 * Computed once per key value, shared by every call that carries it.
 */
export class KeySpellings {
  readonly bytes: ReadonlyArray<Buffer>;
  /** The same, as latin1 strings, for header values. */
  readonly texts: ReadonlyArray<string>;

  constructor(key: string) {
    const raw = Buffer.from(key, "utf8");
    const uri = encodeURIComponent(key);
    const form = new URLSearchParams({ k: key }).toString().slice(2);
    const encoded = [uri, uri.replace(/%20/g, "+"), form, form.replace(/\+/g, "%20")].flatMap((text) => [text, text.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())]);
    for (let offset = 0; offset < 3; offset++) {
      const text = Buffer.concat([Buffer.alloc(offset), raw]).toString("base64").replace(/=+$/, "");
      // Characters wholly inside the key's bits: from ceil(8·offset/6) to floor(8·(offset+length)/6).
      const own = text.slice(Math.ceil((8 * offset) / 6), Math.floor((8 * (offset + raw.length)) / 6));
      encoded.push(own, own.replace(/\+/g, "-").replace(/\//g, "_"));
    }
    const spellings = new Map<string, Buffer>([[raw.toString("latin1"), raw]]);
    for (const text of encoded) if (text.length >= MIN_ENCODED_LENGTH) spellings.set(text, Buffer.from(text, "latin1"));
    this.texts = [...spellings.keys()];
    this.bytes = [...spellings.values()];
  }
}

/**
 * Writes over every spelling of a key in a stream of chunks, also where one is split across
 * chunks: the end of a chunk that could begin a spelling is held back until the next chunk (or
 * the end) shows whether it does. Only such a possible beginning is held, so a streamed answer
 * (server-sent events) is not delayed by what cannot be a key. Lengths are kept.
 */
export class KeyScrubber {
  /** Spellings found and written over so far. */
  scrubbed = 0;
  private held: Buffer | undefined;

  constructor(private readonly spellings: KeySpellings) {}

  /** The scrubbed bytes that can be let out now (`chunk` itself when it held nothing to change). */
  push(chunk: Buffer): Buffer {
    const buffer = this.scrub(this.held === undefined ? chunk : Buffer.concat([this.held, chunk]), this.held !== undefined);
    const keep = this.possibleStart(buffer);
    this.held = keep < buffer.length ? Buffer.from(buffer.subarray(keep)) : undefined;
    return keep < buffer.length ? buffer.subarray(0, keep) : buffer;
  }

  /** What was held back, at the end of the stream: no longer a possible key. */
  end(): Buffer | undefined {
    const rest = this.held;
    this.held = undefined;
    return rest;
  }

  /** A whole value (a header), scrubbed; the same string when it held no key. */
  scrubText(value: string): string {
    let result = value;
    for (const text of this.spellings.texts) {
      if (!result.includes(text)) continue;
      const parts = result.split(text);
      this.scrubbed += parts.length - 1;
      result = parts.join(FILL.repeat(text.length));
    }
    return result;
  }

  /** `buffer` with every spelling written over: a copy when it is not `owned` and holds one. */
  private scrub(buffer: Buffer, owned: boolean): Buffer {
    let result = buffer;
    for (const spelling of this.spellings.bytes) {
      for (let at = result.indexOf(spelling); at >= 0; at = result.indexOf(spelling, at + spelling.length)) {
        if (!owned) { result = Buffer.from(result); owned = true; }
        result.fill(FILL.charCodeAt(0), at, at + spelling.length);
        this.scrubbed++;
      }
    }
    return result;
  }

  /** Where the longest tail of `buffer` that begins some spelling starts (`buffer.length` when none does). */
  private possibleStart(buffer: Buffer): number {
    let start = buffer.length;
    for (const spelling of this.spellings.bytes) {
      const first = spelling[0];
      for (let at = Math.max(0, buffer.length - spelling.length + 1); at < start; at++) {
        if (buffer[at] === first && buffer.compare(spelling, 0, buffer.length - at, at) === 0) { start = at; break; }
      }
    }
    return start;
  }
}
