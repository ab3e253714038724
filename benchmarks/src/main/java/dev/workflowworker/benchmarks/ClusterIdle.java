package dev.workflowworker.benchmarks;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * What a transport with the default settings (16 partitions) sends each master of a 1-master and
 * a 3-master cluster: idle, and under a light paced load. Counts of calls, not microseconds: they
 * do not depend on how loaded the machine is, so one and three masters compare exactly. Per
 * master and summed: calls per second (idle) or per event (paced) by command, socket reads, the
 * clients connected and blocked; the masters' own calls with no client of ours come first, so
 * that what the library sends shows apart from them.
 */
final class ClusterIdle {

    private static final String STREAM = "bench:idle";
    /** Partitions: the default. */
    private static final int PARTITIONS = RedisOptions.builder().build().partitions();

    private ClusterIdle() {
    }

    /** Counters of one master at one moment. */
    private record Snapshot(Map<String, long[]> commands, long reads, long writes, long clients, long blocked,
                            long pubsubChannels, double cpu) {

        static Snapshot of(HostAndPort m) {
            try (Jedis j = new Jedis(m)) {
                Map<String, long[]> commands = CpuMeter.commandStats(j);
                Map<String, String> info = new TreeMap<>();
                for (String line : j.info().split("\r?\n")) {
                    int colon = line.indexOf(':');
                    if (colon > 0 && !line.startsWith("#")) {
                        info.put(line.substring(0, colon), line.substring(colon + 1).trim());
                    }
                }
                double cpu = Double.parseDouble(info.get("used_cpu_user")) + Double.parseDouble(info.get("used_cpu_sys"));
                // This connection is one of the clients counted: left out.
                return new Snapshot(commands, Long.parseLong(info.get("total_reads_processed")),
                        Long.parseLong(info.get("total_writes_processed")),
                        Long.parseLong(info.get("connected_clients")) - 1, Long.parseLong(info.get("blocked_clients")),
                        Long.parseLong(info.getOrDefault("pubsubshard_channels", "0")), cpu);
            }
        }
    }

    private static List<Snapshot> snapshot(List<HostAndPort> masters) {
        List<Snapshot> out = new ArrayList<>();
        for (HostAndPort m : masters) {
            out.add(Snapshot.of(m));
        }
        return out;
    }

    private static Snapshot sum(List<Snapshot> s) {
        Map<String, long[]> cmds = new TreeMap<>();
        long reads = 0;
        long writes = 0;
        long clients = 0;
        long blocked = 0;
        long channels = 0;
        double cpu = 0;
        for (Snapshot x : s) {
            x.commands().forEach((k, v) -> {
                long[] d = cmds.computeIfAbsent(k, q -> new long[2]);
                d[0] += v[0];
                d[1] += v[1];
            });
            reads += x.reads();
            writes += x.writes();
            clients += x.clients();
            blocked += x.blocked();
            channels += x.pubsubChannels();
            cpu += x.cpu();
        }
        return new Snapshot(cmds, reads, writes, clients, blocked, channels, cpu);
    }

    /** One window: per master and summed, calls per {@code per} (seconds, or events) and the clients at its end. */
    private static List<BenchmarkMain.Row> window(String name, List<HostAndPort> masters, List<Snapshot> a,
                                                  List<Snapshot> b, double seconds, long events) {
        List<BenchmarkMain.Row> rows = new ArrayList<>();
        double per = events > 0 ? events : seconds;
        String unit = events > 0 ? "per event" : "per second";
        for (int i = 0; i <= masters.size(); i++) {
            Snapshot x = i < masters.size() ? a.get(i) : sum(a);
            Snapshot y = i < masters.size() ? b.get(i) : sum(b);
            // The snapshots' own reads: one connection per master, one read each (INFO commandstats, INFO).
            int own = i < masters.size() ? 1 : masters.size();
            long calls = 0;
            for (Map.Entry<String, long[]> e : y.commands().entrySet()) {
                calls += e.getValue()[0] - x.commands().getOrDefault(e.getKey(), new long[2])[0];
            }
            StringBuilder sb = new StringBuilder();
            new TreeMap<>(y.commands()).forEach((cmd, v) -> {
                long d = v[0] - x.commands().getOrDefault(cmd, new long[2])[0];
                if (cmd.equals("info")) {
                    d -= 2L * own;
                }
                if (d > 0) {
                    sb.append(String.format("%s %.3f; ", cmd, d / per));
                }
            });
            String who = i < masters.size() ? "master " + masters.get(i).getPort() : "all masters";
            rows.add(new BenchmarkMain.Row("cluster idle", name + ", " + who + ": calls " + unit,
                    (calls - 2.0 * own) / per, "calls", String.format(
                            "%s socket reads %.3f, writes %.3f %s; CPU %.0f us/s; at the end: clients %d, blocked %d, "
                                    + "shard channels %d", sb, (y.reads() - x.reads() - 2.0 * own) / per,
                            (y.writes() - x.writes() - 2.0 * own) / per, unit, (y.cpu() - x.cpu()) * 1e6 / seconds,
                            y.clients(), y.blocked(), y.pubsubChannels())));
        }
        return rows;
    }

    static List<BenchmarkMain.Row> run(String oneMaster, String threeMasters, int idleSeconds, int rate,
                                       int rateSeconds) throws Exception {
        List<BenchmarkMain.Row> rows = new ArrayList<>();
        for (String url : List.of(oneMaster, threeMasters)) {
            List<HostAndPort> masters = ClusterScenario.masters(url);
            String c = masters.size() + (masters.size() == 1 ? " master" : " masters");
            List<Snapshot> b0 = snapshot(masters);
            long t0 = System.nanoTime();
            TimeUnit.SECONDS.sleep(idleSeconds);
            List<Snapshot> b1 = snapshot(masters);
            rows.addAll(window(c + ", no client", masters, b0, b1, (System.nanoTime() - t0) / 1e9, 0));
            RedisOptions options = RedisOptions.fromUri(url).toBuilder().stream(STREAM).build();
            AtomicLong handled = new AtomicLong();
            RedisEventTransport transport = RedisEventTransport.create(options);
            WorkerService s = WorkerService.builder().transport(transport).runtime(ctx -> handled.incrementAndGet())
                    .build();
            s.start();
            try {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (transport.ownedPartitions().size() < PARTITIONS && System.nanoTime() < until) {
                    TimeUnit.MILLISECONDS.sleep(50);
                }
                // Settled: subscriptions made, partitions opened, the timers' first looks done.
                TimeUnit.SECONDS.sleep(3);
                List<Snapshot> i0 = snapshot(masters);
                t0 = System.nanoTime();
                TimeUnit.SECONDS.sleep(idleSeconds);
                List<Snapshot> i1 = snapshot(masters);
                rows.addAll(window(c + ", idle service (" + transport.ownedPartitions().size() + " of " + PARTITIONS
                        + " partitions)", masters, i0, i1, (System.nanoTime() - t0) / 1e9, 0));
                if (rate > 0) {
                    rows.addAll(paced(c, options, masters, handled, rate, rateSeconds));
                }
            } finally {
                s.close();
                ClusterScenario.flush(masters);
            }
        }
        return rows;
    }

    private static List<BenchmarkMain.Row> paced(String c, RedisOptions options, List<HostAndPort> masters,
                                                 AtomicLong handled, int rate, int seconds) throws Exception {
        AtomicLong published = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        try (RedisEventTransport out = RedisEventTransport.create(options)) {
            Thread publisher = new Thread(() -> publish(out, rate, published, stop), "idle-paced-publisher");
            publisher.start();
            try {
                TimeUnit.SECONDS.sleep(2);
                List<Snapshot> p0 = snapshot(masters);
                long n0 = published.get();
                long h0 = handled.get();
                long t0 = System.nanoTime();
                TimeUnit.SECONDS.sleep(seconds);
                List<Snapshot> p1 = snapshot(masters);
                long n = published.get() - n0;
                long h = handled.get() - h0;
                double window = (System.nanoTime() - t0) / 1e9;
                List<BenchmarkMain.Row> rows = window(c + ", paced " + rate + "/s (" + n + " published, " + h
                        + " handled in " + String.format("%.1f", window) + " s)", masters, p0, p1, window, n);
                return rows;
            } finally {
                stop.set(true);
                publisher.join(10_000);
            }
        }
    }

    /** A tick's share every 10 ms, as {@link ClusterPaced} publishes. */
    private static void publish(RedisEventTransport out, int rate, AtomicLong published, AtomicBoolean stop) {
        long start = System.nanoTime();
        long next = start;
        long sent = 0;
        long perTick = Math.max(1, rate / 100);
        while (!stop.get()) {
            next += TimeUnit.MILLISECONDS.toNanos(10);
            for (long wait = next - System.nanoTime(); wait > 0; wait = next - System.nanoTime()) {
                LockSupport.parkNanos(wait);
            }
            long due = (System.nanoTime() - start) * rate / 1_000_000_000L;
            while (sent < due && !stop.get()) {
                List<WorkflowEvent> batch = new ArrayList<>();
                for (long k = sent; k < due && batch.size() < perTick; k++) {
                    batch.add(WorkflowEvent.builder("NOOP").eventId("idle-" + k)
                            .executionId("x" + (k % ClusterScenario.MANY_KEYS)).build());
                }
                out.publishAll(batch);
                sent += batch.size();
                published.set(sent);
            }
        }
    }
}
