package dev.workflowworker.benchmarks;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.params.ScanParams;
import redis.clients.jedis.resps.ScanResult;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The partitioned no-op row on a Redis Cluster of one master and of three (no replicas, no
 * persistence, all on this machine): throughput, and the Redis CPU each master spent per event,
 * so the spread of the work over the masters shows, and a model of what N master cores would
 * carry. On 2 cores the masters share the CPU with each other and with the workers, so the
 * measured throughput cannot grow with the masters here; the CPU per event and its spread can.
 */
final class ClusterScenario {

    /** 48 partitions: 16 per master of three, every master well inside its share of work. */
    static final int PARTITIONS = 48;
    static final int MANY_KEYS = PartitionedScenario.MANY_KEYS;

    private ClusterScenario() {
    }

    /** The masters of a cluster, from CLUSTER SLOTS of one of its seeds; of a {@code redis://} URL, its server. */
    static List<HostAndPort> masters(String clusterUrl) {
        String first = clusterUrl.substring(clusterUrl.indexOf("://") + 3).split(",")[0];
        HostAndPort seed = HostAndPort.from(first);
        if (!clusterUrl.contains("-cluster://")) {
            return List.of(seed);
        }
        TreeSet<String> out = new TreeSet<>();
        try (Jedis j = new Jedis(seed)) {
            for (Object range : j.clusterSlots()) {
                List<?> master = (List<?>) ((List<?>) range).get(2);
                String host = new String((byte[]) master.get(0));
                // A node that never met another reports no address of its own.
                out.add((host.isEmpty() ? seed.getHost() : host) + ":" + master.get(1));
            }
        }
        List<HostAndPort> list = new ArrayList<>();
        out.forEach(s -> list.add(HostAndPort.from(s)));
        return list;
    }

    static double cpuSeconds(HostAndPort node) {
        try (Jedis j = new Jedis(node)) {
            double total = 0;
            for (String line : j.info("cpu").split("\r?\n")) {
                if (line.startsWith("used_cpu_user:") || line.startsWith("used_cpu_sys:")) {
                    total += Double.parseDouble(line.substring(line.indexOf(':') + 1).trim());
                }
            }
            return total;
        }
    }

    /** Partition streams of {@code stream} that live on {@code node}: keys of type stream named "{stream#...}". */
    private static int partitionsOn(HostAndPort node, String stream) {
        int n = 0;
        try (Jedis j = new Jedis(node)) {
            String cursor = ScanParams.SCAN_POINTER_START;
            ScanParams p = new ScanParams().match("{" + stream + "#*}").count(1000);
            do {
                ScanResult<String> r = j.scan(cursor, p, "stream");
                n += r.getResult().size();
                cursor = r.getCursor();
            } while (!cursor.equals(ScanParams.SCAN_POINTER_START));
        }
        return n;
    }

    static void flush(List<HostAndPort> masters) {
        for (HostAndPort m : masters) {
            try (Jedis j = new Jedis(m)) {
                j.flushAll();
            }
        }
    }

    /**
     * @param idleMicrosPerSecond the masters' CPU (summed) per second of wall time right after the
     *     pass, the workers still running with nothing to read: server cron, the cluster bus, the
     *     ownership rounds, lease renewals and waits; what a pass pays by the second, not by the event
     * @param seconds the measured pass's wall time
     * @param bareMicrosPerSecond the masters' CPU (summed) per second with no client of the library
     *     connected: their own server cron and cluster bus, which no client change can cut
     */
    private record Pass(double rate, double[] cpuMicrosPerEvent, int[] partitions, String commands, String all,
                        double idleMicrosPerSecond, double seconds, String idleCommands, double bareMicrosPerSecond) {

        double total() {
            double t = 0;
            for (double v : cpuMicrosPerEvent) {
                t += v;
            }
            return t;
        }

        /** {@return the Redis CPU per event less what the pass's wall time cost by the second (idle rate x time)} */
        double netOfIdle(int n) {
            return total() - idleMicrosPerSecond * seconds / n;
        }
    }

    /**
     * The masters' CPU in us per second over {@code ms} of wall time, and into {@code top} the
     * commands that took most of it (calls and us per second), so that the idle rate shows what it is.
     */
    static double cpuRate(List<HostAndPort> masters, long ms, StringBuilder top) throws InterruptedException {
        double c0 = 0;
        for (HostAndPort m : masters) {
            c0 += cpuSeconds(m);
        }
        List<Map<String, long[]>> s0 = commandStats(masters);
        long t0 = System.nanoTime();
        Thread.sleep(ms);
        double seconds = (System.nanoTime() - t0) / 1e9;
        List<Map<String, long[]>> s1 = commandStats(masters);
        double c1 = 0;
        for (HostAndPort m : masters) {
            c1 += cpuSeconds(m);
        }
        Map<String, long[]> sum = summed(s0, s1);
        long reads = 0;
        for (int i = 0; i < s1.size(); i++) {
            reads += s1.get(i).get("io")[0] - s0.get(i).get("io")[0];
        }
        top.append(String.format("socket reads %.0f/s; ", reads / seconds));
        sum.entrySet().stream().filter(e -> e.getValue()[0] > 0)
                .sorted((x, y) -> Long.compare(y.getValue()[1], x.getValue()[1]))
                .forEach(e -> top.append(String.format("%s %.0f calls/s %.0f us/s; ", e.getKey(),
                        e.getValue()[0] / seconds, e.getValue()[1] / seconds)));
        return (c1 - c0) * 1e6 / seconds;
    }

    /** Per command, summed over the masters: calls and us between two {@link #commandStats} snapshots. */
    static Map<String, long[]> summed(List<Map<String, long[]>> before, List<Map<String, long[]>> after) {
        Map<String, long[]> out = new java.util.TreeMap<>();
        for (int i = 0; i < after.size(); i++) {
            Map<String, long[]> b = before.get(i);
            after.get(i).forEach((cmd, v) -> {
                if (!cmd.equals("io") && !cmd.equals("cs")) {
                    long[] z = b.getOrDefault(cmd, new long[2]);
                    long[] d = out.computeIfAbsent(cmd, k -> new long[2]);
                    d[0] += v[0] - z[0];
                    d[1] += v[1] - z[1];
                }
            });
        }
        return out;
    }

    /** Per master: INFO commandstats, and under "io" the reads and writes of its event loop (INFO stats). */
    static List<Map<String, long[]>> commandStats(List<HostAndPort> masters) {
        List<Map<String, long[]>> out = new ArrayList<>();
        for (HostAndPort m : masters) {
            try (Jedis j = new Jedis(m)) {
                Map<String, long[]> stats = CpuMeter.commandStats(j);
                long[] io = new long[2];
                for (String line : j.info("stats").split("\r?\n")) {
                    if (line.startsWith("total_reads_processed:")) {
                        io[0] = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    } else if (line.startsWith("total_writes_processed:")) {
                        io[1] = Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
                    }
                }
                stats.put("io", io);
                stats.put("cs", CpuPinning.contextSwitches(CpuPinning.pidOf(m)));
                out.add(stats);
            }
        }
        return out;
    }

    /**
     * Every command on every master (summed over the masters; none left out for being small):
     * calls per event, us per call, us per event; then the us per event the commands account for
     * of the masters' CPU (the rest is the event loop: reading, parsing, writing replies).
     */
    static String allCommands(List<Map<String, long[]>> before, List<Map<String, long[]>> after, long n,
                                      double cpuMicrosPerEvent) {
        Map<String, long[]> sum = new java.util.TreeMap<>();
        for (int i = 0; i < after.size(); i++) {
            Map<String, long[]> b = before.get(i);
            after.get(i).forEach((cmd, v) -> {
                long[] z = b.getOrDefault(cmd, new long[2]);
                long[] d = sum.computeIfAbsent(cmd, k -> new long[2]);
                d[0] += v[0] - z[0];
                d[1] += v[1] - z[1];
            });
        }
        StringBuilder sb = new StringBuilder();
        long[] io = sum.remove("io");
        sum.remove("cs");
        // Per master: how often its event loop woke (socket reads, context switches: a voluntary one
        // is a sleep in its wait) and how many top-level calls each read brought, which is what a
        // shorter pipeline per node would show as.
        StringBuilder each = new StringBuilder("per master, per 1000 events: ");
        for (int i = 0; i < after.size(); i++) {
            long[] r0 = before.get(i).get("io");
            long[] r1 = after.get(i).get("io");
            long[] c0 = before.get(i).get("cs");
            long[] c1 = after.get(i).get("cs");
            long calls = 0;
            for (String top : List.of("evalsha", "eval", "xread", "time", "zrange", "zrangebyscore", "pexpire",
                    "cluster|slots", "ssubscribe", "spublish", "xadd", "exec", "multi")) {
                long[] a = after.get(i).get(top);
                long[] b = before.get(i).getOrDefault(top, new long[2]);
                calls += a == null ? 0 : a[0] - b[0];
            }
            long reads = r1[0] - r0[0];
            each.append(String.format("[%d] reads %.2f, writes %.2f, voluntary cs %.2f, involuntary %.2f, "
                    + "top-level calls (not get/hmget/rpush, which scripts also make) per read %.2f; ", i,
                    reads * 1000.0 / n, (r1[1] - r0[1]) * 1000.0 / n, (c1[0] - c0[0]) * 1000.0 / n,
                    (c1[1] - c0[1]) * 1000.0 / n, reads == 0 ? 0 : calls / (double) reads));
        }
        for (Map.Entry<String, long[]> e : sum.entrySet()) {
            long[] d = e.getValue();
            if (d[0] > 0) {
                sb.append(String.format("%s %.4f calls/event %.1f us/call %.3f us/event; ", e.getKey(),
                        d[0] / (double) n, d[1] / (double) d[0], d[1] / (double) n));
            }
        }
        // No total: commandstats counts a script's own redis.call()s under their names and again inside
        // the script's evalsha, so the rows overlap and their sum overstates the commands' time.
        return String.format("socket reads %.4f, writes %.4f per event; CPU %.3f us/event; commands (calls inside "
                + "a script counted in its evalsha too, so they do not add up): ",
                io[0] / (double) n, io[1] / (double) n, cpuMicrosPerEvent) + sb + each;
    }

    private static Pass pass(String url, List<HostAndPort> masters, int n, int[] c) throws Exception {
        String stream = "bench:cluster";
        // The masters with no client of ours: what a second costs them whatever the library does.
        double bare = cpuRate(masters, 2000, new StringBuilder());
        RedisOptions options = RedisOptions.fromUri(url).toBuilder().stream(stream).partitions(PARTITIONS).build();
        try (RedisEventTransport t = RedisEventTransport.create(options)) {
            List<WorkflowEvent> batch = new ArrayList<>(1000);
            for (int k = 0; k < n; k++) {
                batch.add(WorkflowEvent.builder("NOOP").eventId("bench-" + k).executionId("x" + (k % MANY_KEYS)).build());
                if (batch.size() == 1000 || k == n - 1) {
                    t.publishAll(batch);
                    batch.clear();
                }
            }
        }
        int[] partitions = new int[masters.size()];
        for (int i = 0; i < masters.size(); i++) {
            partitions[i] = partitionsOn(masters.get(i), stream);
        }
        CountDownLatch done = new CountDownLatch(n);
        WorkerService s = WorkerService.builder().transport(RedisEventTransport.create(options))
                .runtime(ctx -> done.countDown()).workerCount(c[0]).concurrencyLimit(c[1]).batchSize(c[2])
                .pollInterval(Duration.ofMillis(100)).metricsReportingInterval(Duration.ofHours(1)).build();
        double[] cpu0 = new double[masters.size()];
        for (int i = 0; i < masters.size(); i++) {
            cpu0[i] = cpuSeconds(masters.get(i));
        }
        // Where the first master's time goes, per command (INFO commandstats).
        CpuMeter first = CpuMeter.start("redis://" + masters.get(0).getHost() + ":" + masters.get(0).getPort());
        List<Map<String, long[]>> stats0 = commandStats(masters);
        long t0 = System.nanoTime();
        s.start();
        if (!done.await(10, TimeUnit.MINUTES)) {
            throw new IllegalStateException("cluster pass did not finish: " + done.getCount() + " of " + n + " left");
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        double rate = n / seconds;
        double[] cpu = new double[masters.size()];
        for (int i = 0; i < masters.size(); i++) {
            cpu[i] = (cpuSeconds(masters.get(i)) - cpu0[i]) * 1e6 / n;
        }
        String commands = first.stop(n).commands();
        double cpuAll = 0;
        for (double v : cpu) {
            cpuAll += v;
        }
        String all = allCommands(stats0, commandStats(masters), n, cpuAll);
        // The pass's tail (last commits, trims) first, then the idle service's rate by the second.
        Thread.sleep(500);
        StringBuilder idleTop = new StringBuilder();
        double idle = cpuRate(masters, 2000, idleTop);
        s.close();
        flush(masters);
        return new Pass(rate, cpu, partitions, commands, all, idle, seconds, idleTop.toString(), bare);
    }

    /**
     * @param plain the other rows' single server (not a cluster), or null: the same pass there too,
     *              so that what cluster mode costs a master shows apart from what P=48 costs
     */
    /**
     * @param rates the paced passes' events per second (see {@link ClusterPaced}); empty for none
     * @param rateSeconds each paced pass's measured window
     * @param control at the highest rate, the one master once more beside two busy neighbours
     */
    static List<BenchmarkMain.Row> run(String plain, String oneMaster, String threeMasters, int n, String config,
                                       List<Integer> rates, int rateSeconds, boolean control)
            throws Exception {
        int[] c = java.util.Arrays.stream(config.trim().split("x")).mapToInt(Integer::parseInt).toArray();
        List<HostAndPort> servers = new ArrayList<>(masters(oneMaster));
        servers.addAll(masters(threeMasters));
        if (plain != null) {
            servers.addAll(masters(plain));
        }
        try (CpuPinning pinned = CpuPinning.pin(!"false".equals(System.getProperty("bench.cluster.pin")), servers)) {
            List<BenchmarkMain.Row> rows = new ArrayList<>(run(plain, oneMaster, threeMasters, n, c, pinned.describe()));
            rows.addAll(paced(oneMaster, threeMasters, c, rates, rateSeconds, control));
            return rows;
        }
    }

    private static List<BenchmarkMain.Row> paced(String oneMaster, String threeMasters, int[] c, List<Integer> rates,
                                                 int rateSeconds, boolean control) throws Exception {
        if (rates.isEmpty()) {
            return List.of();
        }
        Map<Integer, ClusterPaced.Pass[]> passes = new LinkedHashMap<>();
        List<HostAndPort> one = masters(oneMaster);
        List<HostAndPort> three = masters(threeMasters);
        for (int rate : rates) {
            passes.put(rate, new ClusterPaced.Pass[] {
                ClusterPaced.pass(oneMaster, one, rate, rateSeconds, c, List.of(), 0),
                ClusterPaced.pass(threeMasters, three, rate, rateSeconds, c, List.of(), 0)});
        }
        ClusterPaced.Pass busy = null;
        if (control) {
            // The one master beside two servers on its core as busy as the three masters' other two.
            int top = rates.stream().max(Integer::compare).orElseThrow();
            ClusterPaced.Pass three3 = passes.get(top)[1];
            busy = ClusterPaced.pass(oneMaster, one, top, rateSeconds, c, three.subList(1, 3),
                    three3.microsPerSecond() / 3);
        }
        return ClusterPaced.rows(rates, passes, busy);
    }

    private static List<BenchmarkMain.Row> run(String plain, String oneMaster, String threeMasters, int n, int[] c,
                                               String cpus) throws Exception {
        Map<String, Pass> passes = new LinkedHashMap<>();
        for (String url : List.of(oneMaster, threeMasters)) {
            List<HostAndPort> masters = masters(url);
            // Unmeasured first: the JIT compiles the cluster client's paths.
            pass(url, masters, Math.min(n, 100_000), c);
            passes.put(url, pass(url, masters, n, c));
        }
        Pass one = passes.get(oneMaster);
        Pass three = passes.get(threeMasters);
        // The JIT is warm by now; the server only needs its scripts loaded, which the pass does.
        Pass server = plain == null ? null : pass(plain, masters(plain), n, c);
        String setup = "P=" + PARTITIONS + ", " + c[0] + " workers x " + c[1] + ", batch " + c[2] + "; " + n
                + " pre-published over " + MANY_KEYS + " execution ids; " + cpus;
        List<BenchmarkMain.Row> rows = new ArrayList<>();
        rows.add(new BenchmarkMain.Row("cluster", "1 master: WorkerService no-op", one.rate(), "events/s", setup));
        rows.add(new BenchmarkMain.Row("cluster", "  1 master: Redis CPU per event", one.cpuMicrosPerEvent()[0], "us",
                one.commands()));
        rows.add(new BenchmarkMain.Row("cluster", "  1 master: every command", one.cpuMicrosPerEvent()[0], "us",
                one.all()));
        rows.add(new BenchmarkMain.Row("cluster", "3 masters: WorkerService no-op", three.rate(), "events/s",
                String.format("x%.2f of 1 master; the 3 masters, the workers and the JIT share 2 cores here",
                        three.rate() / one.rate())));
        double total = 0;
        for (double v : three.cpuMicrosPerEvent()) {
            total += v;
        }
        double even = total / three.cpuMicrosPerEvent().length;
        boolean within = true;
        List<HostAndPort> masters = masters(threeMasters);
        for (int i = 0; i < three.cpuMicrosPerEvent().length; i++) {
            double share = three.cpuMicrosPerEvent()[i] / total;
            within &= Math.abs(three.cpuMicrosPerEvent()[i] - even) <= 0.2 * even;
            rows.add(new BenchmarkMain.Row("cluster", "  master " + masters.get(i).getPort() + ": Redis CPU per event",
                    three.cpuMicrosPerEvent()[i], "us", String.format("%.0f %% of the Redis work; %d of %d partitions%s",
                            share * 100, three.partitions()[i], PARTITIONS, i == 0 ? "; " + three.commands() : "")));
        }
        rows.add(new BenchmarkMain.Row("cluster", "  3 masters: Redis CPU per event, all", total, "us",
                (within ? "every master within" : "NOT every master within") + String.format(
                        " +-20 %% of an even share; x%.2f of 1 master's", total / one.cpuMicrosPerEvent()[0])));
        rows.add(new BenchmarkMain.Row("cluster", "  3 masters: every command, all masters", total, "us", three.all()));
        // What goes by the second (cron, bus, ownership rounds, renewals) weighs per event by how long a
        // pass took: a slower 3-master pass pays more of it per event without one more call per event.
        rows.add(new BenchmarkMain.Row("cluster", "  1 master: Redis CPU per event, net of idle", one.netOfIdle(n), "us",
                String.format("idle %.0f us/s (no client: %.0f us/s) x %.2f s of pass = %.3f us/event taken off; idle: %s",
                        one.idleMicrosPerSecond(), one.bareMicrosPerSecond(), one.seconds(),
                        one.idleMicrosPerSecond() * one.seconds() / n, one.idleCommands())));
        rows.add(new BenchmarkMain.Row("cluster", "  3 masters: Redis CPU per event, net of idle", three.netOfIdle(n),
                "us", String.format("idle %.0f us/s (no client: %.0f us/s) x %.2f s of pass = %.3f us/event taken off; "
                        + "x%.2f of 1 master's net; idle: %s", three.idleMicrosPerSecond(), three.bareMicrosPerSecond(),
                        three.seconds(), three.idleMicrosPerSecond()
                        * three.seconds() / n, three.netOfIdle(n) / one.netOfIdle(n), three.idleCommands())));
        if (server != null) {
            rows.add(new BenchmarkMain.Row("cluster", "plain server: WorkerService no-op", server.rate(), "events/s",
                    "the same on the single server of the other rows, no cluster"));
            rows.add(new BenchmarkMain.Row("cluster", "  plain server: Redis CPU per event", server.cpuMicrosPerEvent()[0],
                    "us", String.format("1 master on a cluster x%.2f of this", one.cpuMicrosPerEvent()[0]
                            / server.cpuMicrosPerEvent()[0])));
        }
        // The model: each master core does 1e6 us of work a second, and gets 1/N of the events.
        double perCore = 1e6 / total;
        for (int cores : new int[] {1, 3, 6, 12}) {
            rows.add(new BenchmarkMain.Row("cluster model", cores + " master core(s) would carry", perCore * cores, "events/s",
                    String.format("1e6 us / %.2f us per event x %d, if the workers keep up and partitions spread evenly",
                            total, cores)));
        }
        return rows;
    }
}
