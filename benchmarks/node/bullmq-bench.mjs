// Runs N no-op jobs through BullMQ with its documented high-throughput settings and prints one
// JSON line: {"jobs":N,"seconds":S,"rate":R}. Usage: node bullmq-bench.mjs <redisUrl> <jobs> <concurrency>
import { Queue, Worker } from 'bullmq';

const [url, jobsArg, concurrencyArg] = process.argv.slice(2);
const u = new URL(url);
const connection = { host: u.hostname, port: Number(u.port || 6379), maxRetriesPerRequest: null };
const jobs = Number(jobsArg || 200000);
const concurrency = Number(concurrencyArg || 100);
const name = 'bench-' + Date.now();

const queue = new Queue(name, { connection });
const chunk = 1000;
for (let i = 0; i < jobs; i += chunk) {
  const batch = [];
  for (let j = i; j < Math.min(jobs, i + chunk); j++) {
    batch.push({ name: 'noop', data: { i: j }, opts: { removeOnComplete: true, removeOnFail: true } });
  }
  await queue.addBulk(batch);
}

let done = 0;
let start = 0;
const finished = new Promise((resolve) => {
  const worker = new Worker(name, async () => {
    if (start === 0) start = process.hrtime.bigint();
  }, { connection, concurrency, autorun: true });
  worker.on('completed', () => {
    done++;
    if (done === jobs) {
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      worker.close().then(() => resolve(seconds));
    }
  });
});
const seconds = await finished;
await queue.obliterate({ force: true });
await queue.close();
console.log(JSON.stringify({ jobs, seconds, rate: jobs / seconds }));
process.exit(0);
