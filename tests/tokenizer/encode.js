// encode.js TEXT: GPT-2's token ids of a UTF-8 text by two independent
// encoders, npm's gpt-3-encoder and js-tiktoken (OpenAI's tiktoken ported),
// printed as JSON: [gpt3encoder_ids, tiktoken_ids].
const fs = require("fs");
const text = fs.readFileSync(process.argv[2], "utf8");
const { encode } = require("gpt-3-encoder");
const { getEncoding } = require("js-tiktoken");
const a = encode(text);
const b = Array.from(getEncoding("gpt2").encode(text));
process.stdout.write(JSON.stringify([a, b]));
