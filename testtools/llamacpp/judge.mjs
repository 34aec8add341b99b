// judge.mjs: llama.cpp (through node-llama-cpp, CPU only) as an outside judge
// for lmc's tests. It reads one JSON request on stdin and writes one JSON
// answer on stdout:
//
//   request:  {"model": "file.gguf", "prompt": "text" | "tokens": [ids],
//              "addBos": true, "nPredict": 32, "contextSize": 512,
//              "probabilities": false, "topProbs": 0, "ignoreEos": false,
//              "kvCacheType": "F32", "flashAttention": false,
//              "batchSize": 512, "threads": 1}
//   answer:   {"promptTokens": [...], "generated": [...], "text": "...",
//              "probs": [[[id, p], ...] per generated step] (when asked),
//              "vocabSize": N, "bos": id|null, "eos": id|null}
//
// Greedy decoding (temperature 0), one thread, no GPU, no prebuilt download.
import {getLlama} from "node-llama-cpp";

const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const req = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
const model = await llama.loadModel({modelPath: req.model, gpuLayers: 0});
// kvCacheType "F32" and flashAttention false make llama.cpp compute
// attention in float32, so probabilities can be compared to 1e-5.
const kv = req.kvCacheType ? {experimentalKvCacheKeyType: req.kvCacheType, experimentalKvCacheValueType: req.kvCacheType} : {};
if (req.flashAttention != null) kv.flashAttention = req.flashAttention;
// batchSize (default: the context size, so the prompt is one batch) and
// threads (default 1) exist to measure llama.cpp's own noise floor.
const context = await model.createContext({contextSize: req.contextSize ?? 512, threads: req.threads ?? 1, batchSize: req.batchSize ?? req.contextSize ?? 512, ...kv});
const seq = context.getSequence();

let tokens;
if (Array.isArray(req.tokens)) {
    tokens = req.tokens;
} else {
    tokens = model.tokenize(req.prompt ?? "", req.specialTokens ?? false);
    if ((req.addBos ?? true) && model.tokens.bos != null) tokens = [model.tokens.bos, ...tokens];
}
const out = {promptTokens: tokens, generated: [], probs: [], bos: model.tokens.bos, eos: model.tokens.eos};
const nPredict = req.nPredict ?? 32;
const wantProbs = !!req.probabilities;
const topProbs = req.topProbs ?? 0;
if (nPredict > 0) {
    const it = seq.evaluateWithMetadata(tokens, {probabilities: wantProbs}, {temperature: 0, yieldEogToken: !!req.ignoreEos});
    for await (const step of it) {
        out.generated.push(step.token);
        if (wantProbs) {
            const row = [];
            for (const [id, p] of step.probabilities) {
                row.push([id, p]);
                if (topProbs > 0 && row.length >= topProbs) break;
            }
            out.probs.push(row);
        }
        if (out.generated.length >= nPredict) break;
        if (!req.ignoreEos && step.token === model.tokens.eos) break;
    }
}
out.text = model.detokenize(out.generated);
if (req.tokenizeTexts) out.tokenized = req.tokenizeTexts.map((t) => model.tokenize(t, false));
process.stdout.write(JSON.stringify(out) + "\n");
await context.dispose();
await model.dispose();
await llama.dispose();
