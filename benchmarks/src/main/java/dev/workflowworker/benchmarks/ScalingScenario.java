package dev.workflowworker.benchmarks;

import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import redis.clients.jedis.Jedis;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * 1, 2 and 4 service processes sharing one stream, shared or partitioned: do more instances add
 * throughput? On a 2-core machine they share the same two cores with Redis, so this mostly shows
 * the cost of coordination.
 */
final class ScalingScenario {

    private static final String DONE = "bench:scaling:done";
    private static final String READY = "bench:scaling:ready";

    private ScalingScenario() {
    }

    /**
     * Entry point of one worker process: runs a service until its stdin closes, counting
     * completions in Redis. Arguments: Redis URL, stream, and optionally the partition count.
     */
    public static void main(String[] args) throws Exception {
        String url = args[0];
        String stream = args[1];
        int partitions = args.length > 2 ? Integer.parseInt(args[2]) : 0;
        RedisOptions options = RedisOptions.fromUri(url).toBuilder().stream(stream).partitions(partitions).build();
        AtomicLong local = new AtomicLong();
        try (Jedis counter = new Jedis(URI.create(url));
             WorkerService s = WorkerService.builder().transport(RedisEventTransport.create(options))
                     .runtime(ctx -> local.incrementAndGet()).workerCount(2).concurrencyLimit(128).batchSize(256)
                     .pollInterval(Duration.ofMillis(100)).metricsReportingInterval(Duration.ofHours(1)).build()) {
            s.start();
            counter.sadd(READY, Long.toString(ProcessHandle.current().pid()));
            Thread flusher = new Thread(() -> {
                long flushed = 0;
                try (Jedis j = new Jedis(URI.create(url))) {
                    while (!Thread.currentThread().isInterrupted()) {
                        long now = local.get();
                        if (now > flushed) {
                            j.incrBy(DONE, now - flushed);
                            flushed = now;
                        }
                        Thread.sleep(20);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            flusher.setDaemon(true);
            flusher.start();
            while (System.in.read() != -1) {
                // until the orchestrator closes stdin
            }
            flusher.interrupt();
        }
    }

    static List<BenchmarkMain.Row> run(String url, int n) throws Exception {
        return run(url, n, 0);
    }

    /**
     * @param partitions 0 for one shared stream; else the partition count, and the measured pass
     *                   starts only once every partition is leased and spread over the processes
     */
    static List<BenchmarkMain.Row> run(String url, int n, int partitions) throws Exception {
        List<BenchmarkMain.Row> rows = new ArrayList<>();
        String jar = Path.of(ScalingScenario.class.getProtectionDomain().getCodeSource().getLocation().toURI()).toString();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        double single = 0;
        for (int processes : new int[] {1, 2, 4}) {
            String stream = "bench:scaling:" + processes;
            String scenario = partitions == 0 ? "scaling" : "partitioned scaling";
            try (Jedis j = new Jedis(URI.create(url))) {
                j.flushAll();
            }
            List<Process> ps = new ArrayList<>();
            try {
                for (int i = 0; i < processes; i++) {
                    ps.add(new ProcessBuilder(java, "-Xmx512m", "-cp", jar, ScalingScenario.class.getName(), url, stream,
                            Integer.toString(partitions))
                            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
                }
                try (Jedis j = new Jedis(URI.create(url))) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (j.scard(READY) < processes && System.nanoTime() < deadline) {
                        Thread.sleep(50);
                    }
                    if (partitions > 0) {
                        PartitionedScenario.awaitSpread(j, stream, partitions, processes);
                    }
                    long t0 = System.nanoTime();
                    if (partitions > 0) {
                        PartitionedScenario.prepublish(url, stream, partitions, n, PartitionedScenario.MANY_KEYS);
                    } else {
                        RawRedisScenario.prepublish(url, stream, n, false);
                    }
                    deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
                    while (System.nanoTime() < deadline) {
                        String done = j.get(DONE);
                        if (done != null && Long.parseLong(done) >= n) {
                            break;
                        }
                        Thread.sleep(10);
                    }
                    double rate = n / ((System.nanoTime() - t0) / 1e9);
                    if (processes == 1) {
                        single = rate;
                    }
                    rows.add(new BenchmarkMain.Row(scenario, processes + " service process(es)", rate, "events/s",
                            String.format("x%.2f of one process; publish included%s", rate / single,
                                    partitions > 0 ? "; P=" + partitions : "")));
                }
            } finally {
                for (Process p : ps) {
                    p.getOutputStream().close();
                }
                for (Process p : ps) {
                    if (!p.waitFor(20, TimeUnit.SECONDS)) {
                        p.destroyForcibly();
                    }
                }
            }
        }
        return rows;
    }
}
