package dev.workflowworker.benchmarks;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import redis.clients.jedis.Jedis;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
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

    /** One pre-published pass: events/s from resume to the last completion, what it cost, and its compile time. */
    private record Pass(double rate, CpuMeter.Usage usage, double compiledMillis, double passMillis) {
        double compiledShare() {
            return compiledMillis / passMillis;
        }
    }

    /**
     * One service that runs every pass of a row, paused between passes while the next pass's
     * events are published. A service started per pass took rare paths at every start and
     * shutdown (opening partitions, the first resize of its maps, closing), which made C2's code
     * for hot methods such as {@code PartitionReader.fetch} and {@code ConcurrentHashMap.putVal}
     * deoptimise and compile again in every pass, the measured one included
     * ({@code -XX:+PrintCompilation}: 37 to 98 compilations per pass after the second, docs/BENCHMARKS.md
     * "JVM CPU once compiled"); a long-running server pays none of that per event.
     */
    private static final class Passes implements AutoCloseable {
        private final String url;
        private final int partitions;
        private final int keys;
        private final AtomicReference<CountDownLatch> done = new AtomicReference<>(new CountDownLatch(0));
        private final WorkerService service;
        /** Whether a pass's events are written in the seed format to the single stream, for the router to move. */
        private final boolean seed;
        private int count;

        Passes(String url, int partitions, int keys, int[] c) {
            this(url, partitions, keys, c, false);
        }

        Passes(String url, int partitions, int keys, int[] c, boolean seed) {
            this.url = url;
            this.partitions = partitions;
            this.keys = keys;
            this.seed = seed;
            this.service = service(url, STREAM, partitions, c, ctx -> done.get().countDown());
            service.start();
            service.pause();
        }

        Pass run(int n, boolean measured) throws Exception {
            // Ids of their own per pass: the same ids again would be recognised as duplicates.
            String ids = "bench-" + count++ + "-";
            if (seed) {
                SeedRouting.hold(url, STREAM);
                SeedRouting.prepublish(url, STREAM, n, keys, ids);
            } else {
                prepublish(url, STREAM, partitions, n, keys, ids);
            }
            CountDownLatch latch = new CountDownLatch(n);
            done.set(latch);
            var jit = java.lang.management.ManagementFactory.getCompilationMXBean();
            CpuMeter cpu = CpuMeter.start(url);
            if (measured) {
                Profiler.start("partitioned-" + keys + "-keys");
            }
            mark("start", measured);
            long jit0 = jit.getTotalCompilationTime();
            if (seed) {
                // Resumed, then the router lease let go: the pass starts when the service has
                // taken it (its next ownership round), so it measures the routing and the
                // partitions' consumption together, without the wait for that round.
                service.resume();
                SeedRouting.release(url, STREAM);
            }
            long t0 = System.nanoTime();
            if (!seed) {
                service.resume();
            }
            if (!latch.await(10, TimeUnit.MINUTES)) {
                throw new IllegalStateException("partitioned pass did not finish: " + latch.getCount() + " of " + n + " left");
            }
            long nanos = System.nanoTime() - t0;
            double compiled = jit.getTotalCompilationTime() - jit0;
            mark("end", measured);
            CpuMeter.Usage used = cpu.stop(n);
            if (measured) {
                Profiler.stop();
            }
            service.pause();
            return new Pass(n / (nanos / 1e9), used, compiled, nanos / 1e6);
        }

        @Override
        public void close() {
            service.close();
            flush(url);
        }
    }

    private static final String STREAM = "bench:part";

    private static final boolean MARKS = Boolean.getBoolean("bench.marks");

    /** With -Dbench.marks, a line at each pass's start and end, to place -XX:+PrintCompilation's lines. */
    private static void mark(String what, boolean measured) {
        if (MARKS) {
            System.out.println("=== " + (measured ? "measured" : "warm-up") + " pass " + what);
        }
    }

    static List<BenchmarkMain.Row> throughput(String url, int n, int partitions, String config, boolean fewKeys)
            throws Exception {
        int[] c = parse(config);
        Pass many;
        try (Passes p = new Passes(url, partitions, MANY_KEYS, c)) {
            warmUp(p, n, MANY_KEYS);
            many = p.run(n, true);
        }
        String setup = "P=" + partitions + ", " + c[0] + " workers x " + c[1] + ", batch " + c[2];
        BenchmarkMain.Row headline = new BenchmarkMain.Row("partitioned", HEADLINE, many.rate(), "events/s",
                setup + "; " + n + " pre-published over " + MANY_KEYS
                        + " execution ids; one service, warm, paused between passes");
        if (!fewKeys) {
            return List.of(headline, cpuRow(many));
        }
        Pass few;
        try (Passes p = new Passes(url, partitions, FEW_KEYS, c)) {
            warmUp(p, Math.min(n, 50_000), FEW_KEYS);
            few = p.run(n, true);
        }
        return List.of(
                headline,
                cpuRow(many),
                new BenchmarkMain.Row("partitioned", "WorkerService no-op, " + FEW_KEYS + " keys", few.rate(), "events/s",
                        String.format("x%.2f of many keys: per-key order runs at most %d at a time", few.rate() / many.rate(),
                                FEW_KEYS)),
                cpuRow(few));
    }

    /** Metric of the seed-format row, found by {@link BenchmarkMain}'s comparison. */
    static final String SEED = "WorkerService no-op, seed-format XADD through the router";

    /**
     * The headline row's events written by a producer of the seed format (a plain XADD to the
     * single stream) and routed into the partitions by the service's router: the migration path.
     * The same service, keys and warm-up as the headline row; the pass starts when the router
     * takes its lease, with every entry waiting in the single stream.
     */
    static List<BenchmarkMain.Row> seed(String url, int n, int partitions, String config) throws Exception {
        int[] c = parse(config);
        Pass pass;
        try (Passes p = new Passes(url, partitions, MANY_KEYS, c, true)) {
            warmUp(p, n, MANY_KEYS);
            pass = p.run(n, true);
        }
        return List.of(new BenchmarkMain.Row("partitioned", SEED, pass.rate(), "events/s",
                        "P=" + partitions + ", " + c[0] + " workers x " + c[1] + ", batch " + c[2] + "; " + n
                                + " pre-published with plain XADD over " + MANY_KEYS
                                + " execution ids, routed and run in the measured window"),
                cpuRow(pass));
    }

    /**
     * Unmeasured passes until the JIT compiler settles: {@link #SETTLED_PASSES} passes in a row in
     * each of which it compiled for under 2 % of the pass's time, at least {@link #MIN_WARM_UPS}
     * passes and at most {@link #MAX_WARM_UPS}. A single quiet pass was not enough: a
     * deoptimisation (a rare path taken late, such as the eviction of the recent-completions
     * window) recompiles in a later pass. Each pass's figures are printed, so the first settled
     * figure and the compilers' share stay visible beside the measured row.
     */
    private static void warmUp(Passes p, int n, int keys) throws Exception {
        int runs = 0;
        int settled = 0;
        while (runs < MAX_WARM_UPS && (runs < MIN_WARM_UPS || settled < SETTLED_PASSES)) {
            Pass w = p.run(Math.min(n, 200_000), false);
            runs++;
            settled = w.compiledShare() < 0.02 ? settled + 1 : 0;
            System.out.printf("partitioned warm-up (%d keys) pass %d: %,.0f events/s, Redis %.2f us per event, JVM %.2f"
                            + " (JIT %.2f), compiled %.0f ms = %.1f%% of the pass%s%n", keys, runs, w.rate(),
                    w.usage().redisMicrosPerEvent(), w.usage().jvmMicrosPerEvent(), w.usage().jitMicrosPerEvent(),
                    w.compiledMillis(),
                    100 * w.compiledShare(), settled == SETTLED_PASSES ? " (settled)" : "");
        }
        System.out.printf("partitioned warm-up (%d keys): %d unmeasured passes%s%n", keys, runs,
                settled >= SETTLED_PASSES ? "" : ", the compiler did not settle");
    }

    /** The bound on warm-up passes: a machine too loaded to settle still gets a figure, with its JIT share shown. */
    static final int MAX_WARM_UPS = 12;
    static final int MIN_WARM_UPS = 3;
    /** Quiet passes in a row that count as settled. */
    static final int SETTLED_PASSES = 2;

    private static BenchmarkMain.Row cpuRow(Pass p) {
        CpuMeter.Usage u = p.usage();
        return new BenchmarkMain.Row("partitioned", "  CPU per event: Redis / JVM", u.redisMicrosPerEvent(), "us",
                String.format("JVM %.1f us, of which the JIT compilers %.2f us (compiled %.0f ms = %.1f%% of the pass); %s;"
                                + " JVM by thread: %s", u.jvmMicrosPerEvent(), u.jitMicrosPerEvent(), p.compiledMillis(),
                        100 * p.compiledShare(), u.commands(), u.jvmThreads()));
    }

    static List<BenchmarkMain.Row> latency(String url, int partitions, int perSecond, int seconds) throws Exception {
        PacedLatency load = new PacedLatency("latency-partitioned", perSecond);
        // The shared-stream latency row's configuration, so the two rows differ only in the mode.
        WorkerService s = service(url, "bench:part:latency", partitions, new int[] {2, 8, 16}, load.handler());
        s.start();
        try {
            return load.run(s, seconds, "partitioned latency", ", P=" + partitions + ", over 100 keys");
        } finally {
            s.close();
            flush(url);
        }
    }

    /**
     * The partitioned latency row with its events written by a seed-format producer (a plain XADD
     * to the single stream, outside the service) and moved by the router: what the router's
     * batches and waits add to a lone event's way. Same rate, keys and service as {@link #latency}.
     */
    static List<BenchmarkMain.Row> seedLatency(String url, int partitions, int perSecond, int seconds)
            throws Exception {
        String stream = "bench:part:seed-latency";
        try (SeedRouting.Publisher publisher = new SeedRouting.Publisher(url, stream)) {
            PacedLatency load = new PacedLatency("latency-partitioned-seed", perSecond, publisher);
            WorkerService s = service(url, stream, partitions, new int[] {2, 8, 16}, load.handler());
            s.start();
            try {
                return load.run(s, seconds, "partitioned seed latency", ", P=" + partitions
                        + ", over 100 keys, each a plain XADD to the single stream, routed");
            } finally {
                s.close();
                flush(url);
            }
        }
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
