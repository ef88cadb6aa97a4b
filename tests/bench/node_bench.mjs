// The same benchmark calls made by the two maintained Node clients (sfmc-sdk and fuel-soap,
// from npm), against the same server, for a side-by-side with performlua.
//
//   node node_bench.mjs calls   LIB N CONCURRENCY     time N retrieves, sequential and pooled
//   node node_bench.mjs stream  LIB DE_KEY            retrieve every row of a data extension
//   node node_bench.mjs perform LIB N CONCURRENCY     N Performs, CONCURRENCY in flight, with
//                                                     their CPU time (bench_endpoint.lua's call)
//   node node_bench.mjs pages   LIB PAGES             PAGES retrieves of a 2,500-row page, CPU
// LIB is sfmc-sdk or fuel-soap. Environment: PL_AUTH_URL (the server's auth base URL, ending
// in "/": the sandbox for calls/stream, the neutral nginx endpoint of side_by_side.sh for
// perform/pages), NODE_PATH-free: run from the directory where `npm install sfmc-sdk
// fuel-soap` ran. Prints one line of key=value figures; the peak resident memory comes from
// /proc/self/status, the CPU time (user + system of this process) from process.cpuUsage().
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(process.cwd() + '/');
const [mode, lib, ...rest] = process.argv.slice(2);
const authBase = process.env.PL_AUTH_URL;
if (!authBase || !mode || !lib) {
  console.error('usage: PL_AUTH_URL=http://127.0.0.1:PORT/ node node_bench.mjs calls|stream LIB ...');
  process.exit(2);
}

function peakRssKb() {
  const m = readFileSync('/proc/self/status', 'utf8').match(/VmHWM:\s+(\d+) kB/);
  return m ? Number(m[1]) : -1;
}

async function token() {
  const res = await fetch(authBase + 'v2/token', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ grant_type: 'client_credentials', client_id: 'sandbox',
      client_secret: 'sandbox' }),
  });
  if (!res.ok) throw new Error('token: HTTP ' + res.status);
  return res.json();
}

// A client with retrieve(type, props, continueRequest) -> {OverallStatus, RequestID, Results}.
async function makeClient() {
  if (lib === 'sfmc-sdk') {
    const SDK = (await import(require.resolve('sfmc-sdk'))).default;
    const t = await token();
    // sfmc-sdk insists on a real-looking auth URL; a pre-seeded token means it never calls it
    const sdk = new SDK({
      client_id: 'sandbox', client_secret: 'sandbox', account_id: 1,
      auth_url: 'https://mcabcdefghijklmnopqrstuvwxyz.auth.marketingcloudapis.com/',
      access_token: t.access_token, soap_instance_url: t.soap_instance_url,
      expiration: Number.MAX_SAFE_INTEGER,
    }, { requestAttempts: 1 });
    return {
      perform: async (type, action, def) => {
        const r = await sdk.soap.perform(type, action, def);
        return { OverallStatus: r.OverallStatus, Results: r.Results || [] };
      },
      retrieve: async (type, props, cont) => {
        const r = await sdk.soap.retrieve(type, props, cont ? { continueRequest: cont } : undefined);
        return { OverallStatus: r.OverallStatus, RequestID: r.RequestID, Results: r.Results || [] };
      },
      retrieveBulk: async (type, props) => (await sdk.soap.retrieveBulk(type, props)).Results,
    };
  }
  if (lib === 'fuel-soap') {
    const FuelSoap = require('fuel-soap');
    const soap = new FuelSoap({
      auth: { clientId: 'sandbox', clientSecret: 'sandbox', authUrl: authBase + 'v2/token',
        authOptions: { authVersion: 2 } },
      soapEndpoint: authBase + 'Service.asmx',
    });
    const retrieve = (type, props, cont) => new Promise((resolve, reject) => {
      soap.retrieve(type, props, cont ? { continueRequest: cont } : {}, (err, r) => {
        if (err) return reject(err);
        const b = r.body;
        let results = b.Results || [];
        if (!Array.isArray(results)) results = [results];
        resolve({ OverallStatus: b.OverallStatus, RequestID: b.RequestID, Results: results });
      });
    });
    return {
      // fuel-soap's perform always sends Action "start"
      perform: (type, action, def) => new Promise((resolve, reject) => {
        soap.perform(type, { ...def }, (err, r) => {
          if (err) return reject(err);
          resolve({ OverallStatus: r.body.OverallStatus, Results: r.body.Results || [] });
        });
      }),
      retrieve,
      // fuel-soap has no paging helper: the loop its users write, collecting every page
      retrieveBulk: async (type, props) => {
        const all = [];
        let cont;
        for (;;) {
          const r = await retrieve(type, props, cont);
          all.push(...r.Results);
          if (r.OverallStatus !== 'MoreDataAvailable') return all;
          cont = r.RequestID;
        }
      },
    };
  }
  throw new Error('unknown library ' + lib);
}

// Runs fn and returns its figures as bench_endpoint.lua prints them: wall and CPU time (user +
// system of this process) in all and per unit.
async function measure(units, fn) {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await fn();
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu0);
  const cpu = (used.user + used.system) / 1e6;
  return `seconds=${seconds.toFixed(3)} cpu_s=${cpu.toFixed(3)} ` +
    `cpu_us_per_unit=${(cpu / units * 1e6).toFixed(1)} units_per_s=${(units / seconds).toFixed(0)}`;
}

const client = await makeClient();
if (mode === 'calls') {
  const n = Number(rest[0] || 64);
  const concurrency = Number(rest[1] || 8);
  const call = async () => {
    const r = await client.retrieve('List', ['ID', 'ListName']);
    if (r.OverallStatus !== 'OK') throw new Error('retrieve: ' + r.OverallStatus);
  };
  await call(); // warm-up: token and connection
  let t0 = performance.now();
  for (let i = 0; i < n; i++) await call();
  const sequential = (performance.now() - t0) / 1000;
  t0 = performance.now();
  let next = 0;
  const worker = async () => { while (next < n) { next++; await call(); } };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const pooled = (performance.now() - t0) / 1000;
  console.log(`lib=${lib} calls=${n} concurrency=${concurrency} sequential_s=${sequential.toFixed(3)} ` +
    `pooled_s=${pooled.toFixed(3)} speedup=${(sequential / pooled).toFixed(2)} peak_rss_kb=${peakRssKb()}`);
} else if (mode === 'stream') {
  const key = rest[0];
  const props = (rest[1] || 'SubscriberKey,EmailAddress,Points').split(',');
  const t0 = performance.now();
  const rows = await client.retrieveBulk(`DataExtensionObject[${key}]`, props);
  const seconds = (performance.now() - t0) / 1000;
  console.log(`lib=${lib} rows=${rows.length} seconds=${seconds.toFixed(2)} peak_rss_kb=${peakRssKb()}`);
} else if (mode === 'perform') {
  const n = Number(rest[0] || 1000);
  const concurrency = Number(rest[1] || 1);
  // the Perform bench_endpoint.lua makes, answered by the recording canned_answers.lua made
  const call = async () => {
    const r = await client.perform('ImportDefinition', 'start', { CustomerKey: 'daily-subscriber-import' });
    if (r.OverallStatus !== 'OK') throw new Error('perform: ' + r.OverallStatus);
  };
  await call(); // warm-up: token and connection
  const figures = await measure(n, async () => {
    let next = 0;
    const worker = async () => { while (next < n) { next++; await call(); } };
    await Promise.all(Array.from({ length: concurrency }, worker));
  });
  console.log(`lib=${lib} mode=perform calls=${n} concurrency=${concurrency} ${figures} peak_rss_kb=${peakRssKb()}`);
} else if (mode === 'pages') {
  const pages = Number(rest[0] || 10);
  const props = ['SubscriberKey', 'EmailAddress', 'FirstName', 'Points', 'JoinedDate'];
  const page = async () => {
    const r = await client.retrieve('DataExtensionObject[Big_Generated]', props);
    if (r.Results.length !== 2500) throw new Error('retrieve: ' + r.Results.length + ' rows');
  };
  await page();
  const figures = await measure(pages, async () => { for (let i = 0; i < pages; i++) await page(); });
  console.log(`lib=${lib} mode=retrieve pages=${pages} ${figures} peak_rss_kb=${peakRssKb()}`);
} else {
  throw new Error('unknown mode ' + mode);
}
