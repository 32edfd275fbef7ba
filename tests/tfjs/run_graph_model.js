// Runs TensorFlow.js graph models on the pure-JS CPU backend: the original runtime that
// tests/test_tfjs_convert.py compares Rostro's ONNX conversions with.
//
// usage: node run_graph_model.js JOB.json
// JOB.json: {"models": [{"modelJson": PATH, "shards": [PATH, ...],
//            "inputs": [{"name": NAME, "shape": [..], "file": PATH}],
//            "outputs": [{"tensor": "node:0", "file": PATH}]}]}
// Input files hold raw little-endian float32 data; each output is written the same way and
// its shape is printed as one JSON line per model on stdout.
'use strict';

const fs = require('fs');
const tf = require('@tensorflow/tfjs');

function toArrayBuffer(buffer) {
  return buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength);
}

async function runModel(job) {
  const model = JSON.parse(fs.readFileSync(job.modelJson, 'utf8'));
  // Weights are laid out group after group, each group's shards in order, exactly as
  // tfjs's own HTTP loader concatenates them.
  const weightSpecs = model.weightsManifest.flatMap((group) => group.weights);
  const weightData = toArrayBuffer(Buffer.concat(job.shards.map((p) => fs.readFileSync(p))));
  const handler = tf.io.fromMemory({
    modelTopology: model.modelTopology,
    weightSpecs,
    weightData,
    format: model.format,
    generatedBy: model.generatedBy,
    convertedBy: model.convertedBy,
    signature: model.signature,
    userDefinedMetadata: model.userDefinedMetadata,
  });
  const graph = await tf.loadGraphModel(handler);
  const feeds = {};
  for (const input of job.inputs) {
    const raw = fs.readFileSync(input.file);
    const values = new Float32Array(toArrayBuffer(raw));
    feeds[input.name] = tf.tensor(values, input.shape, 'float32');
  }
  const started = process.hrtime.bigint();
  let results = graph.execute(feeds, job.outputs.map((o) => o.tensor));
  if (!Array.isArray(results)) results = [results];
  const shapes = [];
  for (let i = 0; i < results.length; i += 1) {
    const data = results[i].dataSync();
    fs.writeFileSync(job.outputs[i].file, Buffer.from(Float32Array.from(data).buffer));
    shapes.push(results[i].shape);
  }
  const ms = Number(process.hrtime.bigint() - started) / 1e6;
  tf.dispose([...results, ...Object.values(feeds)]);
  graph.dispose();
  return { modelJson: job.modelJson, shapes, ms };
}

async function main() {
  await tf.setBackend('cpu');
  const jobs = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')).models;
  for (const job of jobs) {
    process.stdout.write(`${JSON.stringify(await runModel(job))}\n`);
  }
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
