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
import java.util.Map;
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
    /** Completions by process id: how the events spread over the processes. */
    private static final String BY_PROCESS = "bench:scaling:by-process";
    /** Prefix of the hashes the processes report their threads' CPU into. */
    private static final String THREADS = "bench:scaling:threads:";
    /** The field of those hashes that holds the process's total JIT compilation time, in ms. */
    private static final String JIT_MILLIS = "(jit-ms)";
    /**
     * The bound on unmeasured passes before the steady state: each of N processes sees 1/N of the
     * events per pass, so its JIT needs about N times the passes of one process to settle.
     */
    private static final int MAX_SETTLE_PASSES = 40;
    /**
     * A process's JIT counts as settled when its compilers were busy for at most this share of a
     * pass's time. Not a share of its total compilation time: that total grows with every pass
     * (and with the machine's load, which the MXBean counts in), so such a bound loosens as it
     * goes; it let a measured 4-process pass still compile for 1.5 s in one process.
     */
    private static final double JIT_SETTLED_GROWTH = 0.02;

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
                            // By process first: once DONE reaches n, the spread is complete too.
                            j.hincrBy(BY_PROCESS, Long.toString(ProcessHandle.current().pid()), now - flushed);
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
            java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));
            String line;
            while ((line = in.readLine()) != null) {
                // until the orchestrator closes stdin; each line asks for a snapshot of the threads' CPU
                reportThreads(counter, line.trim());
            }
            flusher.interrupt();
        }
    }

    /**
     * Writes the CPU time of this process's Java threads, summed by name with digits dropped, to
     * the hash {@code THREADS + tag + ":" + pid}: /proc truncates thread names to 15 characters,
     * which hides which of the library's threads spent it.
     */
    private static void reportThreads(Jedis j, String tag) {
        var mx = java.lang.management.ManagementFactory.getThreadMXBean();
        Map<String, String> out = new java.util.HashMap<>();
        Map<String, Long> sums = new java.util.TreeMap<>();
        for (java.lang.management.ThreadInfo t : mx.getThreadInfo(mx.getAllThreadIds())) {
            if (t == null) {
                continue;
            }
            long cpu = mx.getThreadCpuTime(t.getThreadId());
            if (cpu > 0) {
                sums.merge(t.getThreadName().replaceAll("[0-9]+", "#"), cpu, Long::sum);
            }
        }
        sums.forEach((k, v) -> out.put(k, Long.toString(v)));
        out.put(JIT_MILLIS, Long.toString(java.lang.management.ManagementFactory.getCompilationMXBean()
                .getTotalCompilationTime()));
        out.put("(reported)", "1");
        j.hset(THREADS + tag + ":" + ProcessHandle.current().pid(), out);
    }

    /**
     * Asks every process for its threads' CPU and waits (bounded) for the answers, summed by name in
     * ns; each process's total JIT compilation time (ms) goes into {@code jitMillis}, in the order of {@code ps}.
     */
    private static Map<String, Long> threadCpu(Jedis j, List<Process> ps, String tag, List<Long> jitMillis)
            throws Exception {
        for (Process p : ps) {
            p.getOutputStream().write((tag + "\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            p.getOutputStream().flush();
        }
        Map<String, Long> sums = new java.util.TreeMap<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        for (Process p : ps) {
            String key = THREADS + tag + ":" + p.pid();
            Map<String, String> h = j.hgetAll(key);
            while (h.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(5);
                h = j.hgetAll(key);
            }
            jitMillis.add(Long.parseLong(h.getOrDefault(JIT_MILLIS, "0")));
            h.forEach((k, v) -> {
                if (!k.equals("(reported)") && !k.equals(JIT_MILLIS)) {
                    sums.merge(k, Long.parseLong(v), Long::sum);
                }
            });
        }
        return sums;
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
        double singleWarm = 0;
        if (partitions > 0) {
            // The publisher runs in this JVM: warmed here, its JIT is not in the one-process pass alone
            // (in a full run the throughput rows warmed it; under --only partitioned-scaling nothing did).
            PartitionedScenario.prepublish(url, "bench:scaling:publisher-warm-up", partitions, n,
                    PartitionedScenario.MANY_KEYS);
        }
        for (int processes : new int[] {1, 2, 4}) {
            String stream = "bench:scaling:" + processes;
            String scenario = partitions == 0 ? "scaling" : "partitioned scaling";
            try (Jedis j = new Jedis(URI.create(url))) {
                j.flushAll();
            }
            List<Process> ps = new ArrayList<>();
            try {
                long launched = System.nanoTime();
                for (int i = 0; i < processes; i++) {
                    ps.add(new ProcessBuilder(java, "-Xmx512m", "-cp", jar, ScalingScenario.class.getName(), url, stream,
                            Integer.toString(partitions))
                            .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start());
                }
                List<Long> pids = ps.stream().map(Process::pid).toList();
                try (Jedis j = new Jedis(URI.create(url))) {
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                    while (j.scard(READY) < processes && System.nanoTime() < deadline) {
                        Thread.sleep(50);
                    }
                    long ready = System.nanoTime();
                    if (partitions > 0) {
                        PartitionedScenario.awaitSpread(j, stream, partitions, processes);
                    }
                    long spread = System.nanoTime();
                    Pass cold = pass(url, j, stream, partitions, n, ps, "cold-");
                    if (processes == 1) {
                        single = cold.rate();
                    }
                    rows.add(new BenchmarkMain.Row(scenario, processes + " service process(es)", cold.rate(), "events/s",
                            String.format("x%.2f of one process; publish included%s", cold.rate() / single,
                                    partitions > 0 ? "; P=" + partitions + "; the processes' first pass" : "")));
                    if (partitions == 0) {
                        continue;
                    }
                    rows.add(cold.cpuRow(scenario, processes, "first pass", String.format(
                            "started to ready %d ms, ready to spread %d ms; ",
                            TimeUnit.NANOSECONDS.toMillis(ready - launched), TimeUnit.NANOSECONDS.toMillis(spread - ready))));
                    int warmUps = 0;
                    Pass last = cold;
                    while (warmUps < MAX_SETTLE_PASSES && !last.jitSettled()) {
                        last = pass(url, j, stream, partitions, n, ps, "warm" + warmUps + "-");
                        warmUps++;
                    }
                    double idle = idleMillisPerSecond(pids, 2000);
                    Pass warm = pass(url, j, stream, partitions, n, ps, "steady-");
                    if (processes == 1) {
                        singleWarm = warm.rate();
                    }
                    rows.add(new BenchmarkMain.Row(scenario, processes + " process(es), steady state", warm.rate(), "events/s",
                            String.format("x%.2f of one process's; publish included; after %d more unmeasured passes%s;"
                                    + " JIT time added in this pass by process: %s", warm.rate() / singleWarm, warmUps,
                                    last.jitSettled() ? ", once every process compiled for <= "
                                            + Math.round(JIT_SETTLED_GROWTH * 100) + " % of a pass"
                                            : " (the bound; some process's JIT had not settled)",
                                    warm.jitGrowth())));
                    rows.add(warm.cpuRow(scenario, processes, "steady state",
                            String.format("idle before it %.1f ms CPU per s over all processes; ", idle)));
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

    /**
     * One pass: {@code n} events published from this process while the service processes consume
     * them, events/s from the first publish to the last completion, and the CPU every party spent.
     */
    private static Pass pass(String url, Jedis j, String stream, int partitions, int n, List<Process> ps, String idPrefix)
            throws Exception {
        List<Long> pids = ps.stream().map(Process::pid).toList();
        j.del(DONE, BY_PROCESS);
        List<Long> jit0 = new ArrayList<>();
        List<Long> jit1 = new ArrayList<>();
        Map<String, Long> threads0 = partitions > 0 ? threadCpu(j, ps, idPrefix + "0", jit0) : Map.of();
        CpuMeter cpu = CpuMeter.start(url);
        Map<String, Long> ticks0 = ProcessCpu.threadTicks(pids);
        long t0 = System.nanoTime();
        if (partitions > 0) {
            PartitionedScenario.prepublish(url, stream, partitions, n, PartitionedScenario.MANY_KEYS, idPrefix);
        } else {
            RawRedisScenario.prepublish(url, stream, n, false);
        }
        long published = System.nanoTime();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
        while (System.nanoTime() < deadline) {
            String done = j.get(DONE);
            if (done != null && Long.parseLong(done) >= n) {
                break;
            }
            Thread.sleep(10);
        }
        long end = System.nanoTime();
        Map<String, Long> ticks = ProcessCpu.delta(ticks0, ProcessCpu.threadTicks(pids));
        CpuMeter.Usage used = cpu.stop(n);
        Map<String, Long> threads = partitions > 0
                ? ProcessCpu.delta(threads0, threadCpu(j, ps, idPrefix + "1", jit1)) : Map.of();
        List<Long> counts = j.hgetAll(BY_PROCESS).values().stream().map(Long::parseLong).sorted().toList();
        return new Pass(n / ((end - t0) / 1e9), TimeUnit.NANOSECONDS.toMillis(published - t0),
                TimeUnit.NANOSECONDS.toMillis(end - published), used, ticks, threads, n, counts, jit0, jit1);
    }

    /** {@return the CPU all the processes spend per second while nothing is published, in ms} */
    private static double idleMillisPerSecond(List<Long> pids, long millis) throws InterruptedException {
        Map<String, Long> before = ProcessCpu.threadTicks(pids);
        long t0 = System.nanoTime();
        Thread.sleep(millis); // a measuring interval, not a wait for a condition
        Map<String, Long> after = ProcessCpu.threadTicks(pids);
        double seconds = (System.nanoTime() - t0) / 1e9;
        return ProcessCpu.total(ProcessCpu.delta(before, after)) * 1000.0 / ProcessCpu.HZ / seconds;
    }

    /** A measured pass: its rate, how long publishing took and the drain after it, and the CPU of every party. */
    private record Pass(double rate, long publishMillis, long drainMillis, CpuMeter.Usage usage,
                        Map<String, Long> processTicks, Map<String, Long> javaThreadNanos, long events,
                        List<Long> perProcess, List<Long> jitBefore, List<Long> jitAfter) {

        /**
         * Whether every process's JIT has settled: its total compilation time ({@code
         * CompilationMXBean}) grew by at most {@link #JIT_SETTLED_GROWTH} of the pass's time. Per
         * process, as a sum over processes let one process that has settled hide another still compiling;
         * and measured, as a fixed number of passes left a 4-process steady state compiling through
         * its measured pass (each process sees a quarter of the events per pass).
         */
        boolean jitSettled() {
            if (jitAfter.size() != jitBefore.size() || jitAfter.isEmpty()) {
                return false;
            }
            double passMillis = events / rate * 1000;
            for (int i = 0; i < jitAfter.size(); i++) {
                if (jitAfter.get(i) - jitBefore.get(i) > JIT_SETTLED_GROWTH * passMillis) {
                    return false;
                }
            }
            return true;
        }

        /** {@return each process's JIT time added in this pass, of its total so far, and the pass's time} */
        String jitGrowth() {
            List<String> out = new ArrayList<>();
            out.add(String.format("pass %.0f ms", events / rate * 1000));
            for (int i = 0; i < Math.min(jitBefore.size(), jitAfter.size()); i++) {
                out.add(String.format("%d of %d ms", jitAfter.get(i) - jitBefore.get(i), jitAfter.get(i)));
            }
            return out.toString();
        }

        double processesMicrosPerEvent() {
            return ProcessCpu.total(processTicks) * 1e6 / ProcessCpu.HZ / events;
        }

        /**
         * Total CPU per event (Redis, the service JVMs, the publishing JVM) and the throughput two
         * cores would allow at that cost, beside what each part spent.
         */
        BenchmarkMain.Row cpuRow(String scenario, int processes, String which, String extra) {
            double jvms = processesMicrosPerEvent();
            double total = usage.redisMicrosPerEvent() + jvms + usage.jvmMicrosPerEvent();
            return new BenchmarkMain.Row(scenario, "  " + processes + " process(es), " + which + ": CPU/event", total, "us",
                    String.format("2 cores allow %,.0f events/s at this cost; Redis %.2f, service JVMs %.2f (JIT %.2f, GC %.2f),"
                                    + " publisher %.2f us; publish %d ms, drain after it %d ms; events per process %s; %s"
                                    + "service threads: %s; their Java threads: %s; Redis: %s",
                            2e6 / total, usage.redisMicrosPerEvent(), jvms,
                            ProcessCpu.microsPerEvent(processTicks, "Compiler", events),
                            ProcessCpu.microsPerEvent(processTicks, "GC Thread", events)
                                    + ProcessCpu.microsPerEvent(processTicks, "G1 ", events), usage.jvmMicrosPerEvent(), publishMillis, drainMillis, perProcess, extra,
                            ProcessCpu.top(processTicks, events, 8), javaThreads(), usage.commands()));
        }

        private String javaThreads() {
            StringBuilder sb = new StringBuilder();
            javaThreadNanos.entrySet().stream()
                    .sorted((a, b) -> Long.compare(b.getValue(), a.getValue()))
                    .limit(8)
                    .forEach(e -> sb.append(String.format("%s %.2f us; ", e.getKey(), e.getValue() / 1e3 / events)));
            return sb.toString().trim();
        }
    }
}
