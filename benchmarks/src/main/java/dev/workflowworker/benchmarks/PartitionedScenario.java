package dev.workflowworker.benchmarks;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import redis.clients.jedis.Jedis;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * WorkerService on a partitioned stream ({@code RedisOptions.partitions(P)}): one owner per
 * partition by lease, per-key order, one commit script per partition and batch, no per-event
 * locks or markers. Throughput over many keys and over few, latency at a fixed rate, and 1, 2 and
 * 4 processes, each measured beside its shared-stream counterpart in the same run.
 */
final class PartitionedScenario {

    /**
     * The partition count of every partitioned row. 16 splits evenly over the 1, 2 and 4 processes
     * of the scaling rows, leaves each of 4 processes more than one partition (so a process is
     * never idle behind one busy partition), and keeps the per-round work that grows with P (one
     * read script per owned partition, one key per partition in the blocking XREAD, one renewal
     * per lease) small beside the 256 entries a read takes from a partition.
     */
    static final int DEFAULT_PARTITIONS = 16;
    /** Execution ids the events spread over: enough that per-key order never serializes the run. */
    static final int MANY_KEYS = 10_000;
    /** Execution ids of the few-keys row: one per partition on average, to show what per-key order costs. */
    static final int FEW_KEYS = 16;
    /** workers x concurrency x batch of the throughput rows. */
    static final String DEFAULT_CONFIG = "2x256x512";

    /** Metric of the headline throughput row, found by {@link BenchmarkMain}'s comparison. */
    static final String HEADLINE = "WorkerService no-op, many keys";

    private PartitionedScenario() {
    }

    static RedisOptions options(String url, String stream, int partitions) {
        return RedisOptions.fromUri(url).toBuilder().stream(stream).partitions(partitions).build();
    }

    private static WorkerService service(String url, String stream, int partitions, int[] c,
                                         Consumer<EventContext> handler) {
        return WorkerService.builder().transport(RedisEventTransport.create(options(url, stream, partitions)))
                .runtime(handler::accept).workerCount(c[0]).concurrencyLimit(c[1]).batchSize(c[2])
                .pollInterval(Duration.ofMillis(100)).metricsReportingInterval(Duration.ofHours(1)).build();
    }

    /**
     * Publishes {@code n} no-op events over {@code keys} execution ids through a publish-only
     * transport, which routes each to its partition (a process that does not read takes no lease).
     */
    static void prepublish(String url, String stream, int partitions, int n, int keys) {
        prepublish(url, stream, partitions, n, keys, "bench-");
    }

    /** Like {@link #prepublish(String, String, int, int, int)}, with event ids {@code idPrefix + k}. */
    static void prepublish(String url, String stream, int partitions, int n, int keys, String idPrefix) {
        try (RedisEventTransport t = RedisEventTransport.create(options(url, stream, partitions))) {
            List<WorkflowEvent> batch = new ArrayList<>(1000);
            for (int k = 0; k < n; k++) {
                batch.add(WorkflowEvent.builder("NOOP").eventId(idPrefix + k).executionId("x" + (k % keys)).build());
                if (batch.size() == 1000 || k == n - 1) {
                    t.publishAll(batch);
                    batch.clear();
                }
            }
        }
    }

    private static void flush(String url) {
        try (Jedis j = new Jedis(URI.create(url))) {
            j.flushAll();
        }
    }

    private static int[] parse(String config) {
        return java.util.Arrays.stream(config.trim().split("x")).mapToInt(Integer::parseInt).toArray();
    }

    /** One pre-published pass: events/s from start to the last completion, and what it cost. */
    private record Pass(double rate, CpuMeter.Usage usage) {
    }

    private static Pass pass(String url, int partitions, int n, int keys, int[] c, boolean measure) throws Exception {
        String stream = "bench:part";
        prepublish(url, stream, partitions, n, keys);
        CountDownLatch done = new CountDownLatch(n);
        WorkerService s = service(url, stream, partitions, c, ctx -> done.countDown());
        CpuMeter cpu = measure ? CpuMeter.start(url) : null;
        if (measure) {
            Profiler.start("partitioned-" + keys + "-keys");
        }
        long t0 = System.nanoTime();
        s.start();
        if (!done.await(10, TimeUnit.MINUTES)) {
            throw new IllegalStateException("partitioned pass did not finish: " + done.getCount() + " of " + n + " left");
        }
        double rate = n / ((System.nanoTime() - t0) / 1e9);
        CpuMeter.Usage used = measure ? cpu.stop(n) : null;
        if (measure) {
            Profiler.stop();
        }
        s.close();
        flush(url);
        return new Pass(rate, used);
    }

    static List<BenchmarkMain.Row> throughput(String url, int n, int partitions, String config, boolean fewKeys)
            throws Exception {
        int[] c = parse(config);
        warmUp(url, partitions, n, MANY_KEYS, c);
        Pass many = pass(url, partitions, n, MANY_KEYS, c, true);
        String setup = "P=" + partitions + ", " + c[0] + " workers x " + c[1] + ", batch " + c[2];
        BenchmarkMain.Row headline = new BenchmarkMain.Row("partitioned", HEADLINE, many.rate(), "events/s",
                setup + "; " + n + " pre-published over " + MANY_KEYS + " execution ids");
        if (!fewKeys) {
            return List.of(headline, cpuRow(many.usage()));
        }
        warmUp(url, partitions, Math.min(n, 50_000), FEW_KEYS, c);
        Pass few = pass(url, partitions, n, FEW_KEYS, c, true);
        return List.of(
                headline,
                cpuRow(many.usage()),
                new BenchmarkMain.Row("partitioned", "WorkerService no-op, " + FEW_KEYS + " keys", few.rate(), "events/s",
                        String.format("x%.2f of many keys: per-key order runs at most %d at a time", few.rate() / many.rate(),
                                FEW_KEYS)),
                cpuRow(few.usage()));
    }

    /**
     * Unmeasured passes until the JIT compiler settles: a pass in which it compiled for under 2 % of
     * the pass's time, at least two and at most {@link #MAX_WARM_UPS}. The measured figure is the
     * steady state a long-running server pays; a fixed two passes left C2 compiling through the
     * measured one (paths first taken late, such as the eviction of the recent-completions window),
     * which put 1 to 5 µs of compiler CPU per event into the JVM figure. How many passes it took,
     * and the compiler's share of the measured pass, are printed beside the rows.
     */
    private static void warmUp(String url, int partitions, int n, int keys, int[] c) throws Exception {
        var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
        int runs = 0;
        while (runs < MAX_WARM_UPS) {
            long jit0 = jit.getTotalCompilationTime();
            long t0 = System.nanoTime();
            pass(url, partitions, Math.min(n, 200_000), keys, c, false);
            runs++;
            double passMillis = (System.nanoTime() - t0) / 1e6;
            double compiledMillis = jit.getTotalCompilationTime() - jit0;
            if (runs >= 2 && compiledMillis < 0.02 * passMillis) {
                break;
            }
        }
        System.out.printf("partitioned warm-up (%d keys): %d unmeasured passes%n", keys, runs);
    }

    /** The bound on warm-up passes: a machine too loaded to settle still gets a figure, with its JIT share shown. */
    static final int MAX_WARM_UPS = 8;

    private static BenchmarkMain.Row cpuRow(CpuMeter.Usage u) {
        return new BenchmarkMain.Row("partitioned", "  CPU per event: Redis / JVM", u.redisMicrosPerEvent(), "us",
                String.format("JVM %.1f us; %s; JVM by thread: %s", u.jvmMicrosPerEvent(), u.commands(), u.jvmThreads()));
    }

    static List<BenchmarkMain.Row> latency(String url, int partitions, int perSecond, int seconds) throws Exception {
        Recorder rec = new Recorder(3);
        int n = perSecond * seconds;
        CountDownLatch done = new CountDownLatch(n);
        // The shared-stream latency row's configuration, so the two rows differ only in the mode.
        WorkerService s = service(url, "bench:part:latency", partitions, new int[] {2, 8, 16}, ctx -> {
            long sentNanos = Long.parseLong(ctx.event().headers().get("sent_ns"));
            rec.recordValue(System.nanoTime() - sentNanos);
            done.countDown();
        });
        s.start();
        for (int i = 0; i < 500; i++) {
            s.publisher().publish(WorkflowEvent.builder("WARM").executionId("w" + i)
                    .headers(Map.of("sent_ns", Long.toString(System.nanoTime()))).build());
        }
        Thread.sleep(1000);
        rec.reset();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long due = start + TimeUnit.SECONDS.toNanos(1) * i / perSecond;
            long wait = due - System.nanoTime();
            if (wait > 0) {
                TimeUnit.NANOSECONDS.sleep(wait);
            }
            s.publisher().publish(WorkflowEvent.builder("PING").executionId("x" + (i % 100))
                    .headers(Map.of("sent_ns", Long.toString(System.nanoTime()))).build());
        }
        done.await(2, TimeUnit.MINUTES);
        s.close();
        flush(url);
        Histogram p = rec.getIntervalHistogram();
        return List.of(
                new BenchmarkMain.Row("partitioned latency", "publish -> handler p50", p.getValueAtPercentile(50) / 1e6, "ms",
                        "P=" + partitions + ", " + perSecond + "/s for " + seconds + " s, " + p.getTotalCount()
                                + " events over 100 keys; target <= 0.5 ms"),
                new BenchmarkMain.Row("partitioned latency", "publish -> handler p99", p.getValueAtPercentile(99) / 1e6, "ms",
                        "target <= 1 ms"),
                new BenchmarkMain.Row("partitioned latency", "publish -> handler p99.9", p.getValueAtPercentile(99.9) / 1e6, "ms", ""),
                new BenchmarkMain.Row("partitioned latency", "publish -> handler max", p.getMaxValue() / 1e6, "ms", ""));
    }

    /**
     * Waits until every partition is leased and the leases are spread over {@code processes}
     * owners, so the measured pass does not include the hand-overs of joining processes.
     */
    static void awaitSpread(Jedis j, String stream, int partitions, int processes) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Set<String> owners = new HashSet<>();
            int leased = 0;
            for (int i = 0; i < partitions; i++) {
                // Lease value "member|token" under the partition's hash tag (RedisOptions.partitionLease).
                String v = j.get("{" + stream + "#" + i + "}:lease");
                if (v != null) {
                    leased++;
                    owners.add(v.substring(0, v.lastIndexOf('|')));
                }
            }
            if (leased == partitions && owners.size() == processes) {
                return;
            }
            Thread.sleep(50);
        }
        throw new IllegalStateException(partitions + " partitions of " + stream + " were not spread over "
                + processes + " processes within 60 s");
    }
}
