// Independent conformance check of the diffustream schema-registry stand-in and Avro serde,
// using a real Confluent client (@kafkajs/confluent-schema-registry, pinned in package.json).
//
// usage: node conformance.js <registry-url> <work-dir> <metric-subject> <probe-subject>
//
// <work-dir> holds <Type>.java.bin payloads written by our Java serde. For each, this script
// decodes it and re-encodes the decoded value under the same schema id into <Type>.node.bin
// (the Java side checks both are byte-identical and decode equal). It also encodes a Metric of
// its own into Metric.node-own.bin, and exercises register / encode / decode / latest / lookup /
// 409 against the registry. Prints one JSON line of results; exits 1 on the first failure.
'use strict';

const fs = require('fs');
const path = require('path');
const assert = require('assert');
const { SchemaRegistry, SchemaType } = require('@kafkajs/confluent-schema-registry');

// avsc decodes records into instances of generated classes; compare their plain fields.
const plain = o => JSON.parse(JSON.stringify(o));

async function main() {
  const [url, workDir, metricSubject, probeSubject] = process.argv.slice(2);
  if (!url || !workDir || !metricSubject || !probeSubject) {
    throw new Error('usage: node conformance.js <registry-url> <work-dir> <metric-subject> <probe-subject>');
  }
  const registry = new SchemaRegistry({ host: url, retry: { retries: 0 } });
  const results = { registered: [], roundTrips: [] };

  // 1. register a schema of our own (the client checks GET /config/{subject} first)
  const probeV1 = {
    type: 'record', name: 'Probe', namespace: 'conformance',
    fields: [{ name: 'id', type: 'string' }, { name: 'n', type: 'int' }],
  };
  const { id: id1 } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(probeV1) }, { subject: probeSubject });
  results.registered.push(id1);

  // 2. encode and decode with it; check the Confluent framing byte by byte
  const value = { id: 'probe-1', n: 42 };
  const encoded = await registry.encode(id1, value);
  assert.strictEqual(encoded[0], 0, 'magic byte');
  assert.strictEqual(encoded.readInt32BE(1), id1, 'schema id in the header');
  assert.deepStrictEqual(plain(await registry.decode(encoded)), value);

  // 3. latest, lookup by schema, and a compatible v2 (a defaulted field)
  assert.strictEqual(await registry.getLatestSchemaId(probeSubject), id1, 'latest after v1');
  assert.strictEqual(await registry.getRegistryIdBySchema(probeSubject,
    { type: SchemaType.AVRO, schema: JSON.stringify(probeV1) }), id1, 'lookup by schema');
  const probeV2 = { ...probeV1, fields: [...probeV1.fields, { name: 'note', type: 'string', default: '' }] };
  const { id: id2 } = await registry.register(
    { type: SchemaType.AVRO, schema: JSON.stringify(probeV2) }, { subject: probeSubject });
  assert.notStrictEqual(id2, id1, 'a new version gets a new id');
  assert.strictEqual(await registry.getLatestSchemaId(probeSubject), id2, 'latest after v2');
  results.registered.push(id2);
  // data written with v1 decodes with v2 as the reader schema
  assert.deepStrictEqual(
    plain(await registry.decode(encoded, { [SchemaType.AVRO]: { readerSchema: probeV2 } })),
    { id: 'probe-1', n: 42, note: '' });

  // 4. an incompatible v3 (a required field without default) is refused with 409
  const probeV3 = { ...probeV1, fields: [...probeV1.fields, { name: 'required', type: 'long' }] };
  let refused = null;
  try {
    await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(probeV3) }, { subject: probeSubject });
  } catch (e) {
    refused = e;
  }
  assert.ok(refused, 'an incompatible schema must be refused');
  assert.strictEqual(refused.status, 409, `expected 409, got ${refused.status}: ${refused.message}`);
  assert.match(refused.message, /incompatible/);
  results.incompatible = { status: refused.status, message: refused.message };

  // 5. our Java serde's payloads: decode, and re-encode under the same id
  const files = fs.readdirSync(workDir).filter(f => f.endsWith('.java.bin')).sort();
  assert.ok(files.length > 0, `no .java.bin payloads in ${workDir}`);
  for (const file of files) {
    const bytes = fs.readFileSync(path.join(workDir, file));
    const id = bytes.readInt32BE(1);
    const decoded = await registry.decode(bytes);
    const again = await registry.encode(id, decoded);
    const out = file.replace('.java.bin', '.node.bin');
    fs.writeFileSync(path.join(workDir, out), again);
    results.roundTrips.push({ file, id, identical: Buffer.compare(bytes, again) === 0 });
  }

  // 6. a Metric built here from plain values, on the Java topic's latest schema
  const metricId = await registry.getLatestSchemaId(metricSubject);
  const metric = {
    runId: 'node-run', source: 'conformance', name: 'node/probe', value: 0.25,
    step: 7, policyVersion: null, tags: { from: 'node' }, timestamp: 1700000000123,
  };
  fs.writeFileSync(path.join(workDir, 'Metric.node-own.bin'), await registry.encode(metricId, metric));
  results.metricId = metricId;

  console.log(JSON.stringify(results));
}

main().catch(e => {
  console.error(`conformance check failed: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
