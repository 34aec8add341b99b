import { getLlama, LlamaLogLevel } from "node-llama-cpp";
import fs from "fs";
const [gguf, fixturesPath, pg98Path, valBin] = process.argv.slice(2);
const fx = JSON.parse(fs.readFileSync(fixturesPath, "utf8"));
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath: gguf });
const ctx = await model.createContext({ contextSize: 512, threads: 1 });
const out = { prompts: [] };
for (const p of fx.prompts) {
  const ids = Array.from(model.tokenize(p.text));
  const seq = ctx.getSequence();
  const toks = [fx.bos_id, ...ids];
  const greedy = [];
  for await (const t of seq.evaluate(toks, { temperature: 0 })) {
    greedy.push(t);
    if (greedy.length >= 32) break;
  }
  seq.dispose();
  const r = { text: p.text, ids_equal: JSON.stringify(toks) === JSON.stringify(p.ids), llama_ids: toks,
              greedy_equal: JSON.stringify(greedy) === JSON.stringify(p.greedy_ids), llama_greedy_text: model.detokenize(greedy) };
  out.prompts.push(r);
  console.log(JSON.stringify(r));
}
if (pg98Path) {
  const text = fs.readFileSync(pg98Path, "utf8").replace(/\r\n/g, "\n");
  const ids = Array.from(model.tokenize(text));
  const buf = fs.readFileSync(valBin);
  const want = [];
  for (let i = 2; i < buf.length; i += 2) want.push(buf.readUInt16LE(i)); // skip BOS
  let first = -1;
  for (let i = 0; i < Math.max(ids.length, want.length); i++) if (ids[i] !== want[i]) { first = i; break; }
  out.pg98 = { llama_tokens: ids.length, go_tokens: want.length, first_diff: first };
  console.log(JSON.stringify(out.pg98));
}
fs.writeFileSync(process.env.OUT_JSON || "llamacpp_check.json", JSON.stringify(out, null, 1));
await ctx.dispose(); await model.dispose();
