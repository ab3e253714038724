package dev.workflowworker.benchmarks;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import redis.clients.jedis.HostAndPort;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * The cluster row at one fixed pace: a publisher in this JVM sends {@code rate} events a second
 * (a batch every 10 ms) while a {@code WorkerService} handles them as they come, and the
 * masters' CPU is read over a window of steady state. Unpaced, each cluster drains as fast as it
 * can, and a slower pass pays more of what the masters spend by the second (cron, the cluster
 * bus, the service's rounds) per event; at one pace both pay it over the same seconds and events,
 * so the 3 / 1 ratio compares like with like. The per-event figure includes the publishes (a
 * script call per partition and batch), on both clusters alike.
 */
final class ClusterPaced {

    /** Unmeasured seconds at the pace before the window: connections, scripts and the JIT settle. */
    static final int WARM_SECONDS = 2;
    private static final String STREAM = "bench:cluster-paced";
    /** The publisher's tick: what came due since the last is published in one batch. */
    private static final long TICK_MS = 10;

    private ClusterPaced() {
    }

    /**
     * One paced pass.
     *
     * @param published events published in the window
     * @param handled events handled in the window
     * @param backlog events published but not handled at the window's end
     * @param bareMicrosPerSecond the masters' CPU per second with no client of ours, measured just before
     * @param perCommand per command, summed over the masters: calls and us in the window
     * @param neighboursMicrosPerSecond the busy neighbours' CPU per second in the window; 0 without them
     */
    record Pass(int rate, long published, long handled, long backlog, double seconds, double[] cpuMicrosPerEvent,
                double bareMicrosPerSecond, Map<String, long[]> perCommand, String all,
                double neighboursMicrosPerSecond) {

        double total() {
            double t = 0;
            for (double v : cpuMicrosPerEvent) {
                t += v;
            }
            return t;
        }

        /** {@return the Redis CPU per event less the masters' own (no-client) CPU over the window} */
        double net() {
            return total() - bareMicrosPerSecond * seconds / published;
        }

        /** {@return the masters' CPU per second over the window} */
        double microsPerSecond() {
            return total() * published / seconds;
        }

        /**
         * {@return whether the pass held the pace: the publisher reached the rate, nearly every
         * event was handled, and the backlog stayed under half a second's}
         */
        boolean keptUp() {
            return published >= 0.97 * rate * seconds && handled >= 0.97 * published && backlog < rate / 2;
        }

        String describe() {
            StringBuilder each = new StringBuilder();
            for (double v : cpuMicrosPerEvent) {
                each.append(each.length() == 0 ? "" : " / ").append(String.format("%.3f", v));
            }
            return String.format("%s; %,d published (%,.0f/s) and %,d handled in %.2f s (backlog at the end %,d); net of the "
                    + "masters' own %.0f us/s: %.3f us; masters %.0f us/s in all; each %s",
                    keptUp() ? "kept the pace" : "DID NOT KEEP THE PACE", published, published / seconds, handled, seconds,
                    backlog,
                    bareMicrosPerSecond, net(), microsPerSecond(), each);
        }
    }

    /**
     * Publishes at {@code rate} for {@link #WARM_SECONDS} and then {@code seconds} more, measuring
     * the second part; with {@code neighbours}, keeps those servers busy at {@code neighbourMicros}
     * of CPU a second each meanwhile (see {@link BusyNeighbours}).
     */
    static Pass pass(String url, List<HostAndPort> masters, int rate, int seconds, int[] c,
                     List<HostAndPort> neighbours, double neighbourMicros) throws Exception {
        double bare = ClusterScenario.cpuRate(masters, 2000, new StringBuilder());
        RedisOptions options = RedisOptions.fromUri(url).toBuilder().stream(STREAM)
                .partitions(ClusterScenario.PARTITIONS).build();
        AtomicLong handled = new AtomicLong();
        AtomicLong published = new AtomicLong();
        AtomicBoolean stop = new AtomicBoolean();
        WorkerService s = WorkerService.builder().transport(RedisEventTransport.create(options))
                .runtime(ctx -> handled.incrementAndGet()).workerCount(c[0]).concurrencyLimit(c[1]).batchSize(c[2])
                .pollInterval(Duration.ofMillis(100)).metricsReportingInterval(Duration.ofHours(1)).build();
        s.start();
        BusyNeighbours busy = neighbours.isEmpty() ? null : BusyNeighbours.start(neighbours, neighbourMicros);
        Thread publisher;
        try (RedisEventTransport out = RedisEventTransport.create(options)) {
            publisher = new Thread(() -> publish(out, rate, published, stop), "paced-publisher");
            publisher.start();
            try {
                TimeUnit.SECONDS.sleep(WARM_SECONDS);
                double[] cpu0 = cpu(masters);
                double nb0 = sum(cpu(neighbours));
                List<Map<String, long[]>> stats0 = ClusterScenario.commandStats(masters);
                long p0 = published.get();
                long h0 = handled.get();
                long t0 = System.nanoTime();
                TimeUnit.SECONDS.sleep(seconds);
                long p1 = published.get();
                long h1 = handled.get();
                double window = (System.nanoTime() - t0) / 1e9;
                double[] cpu1 = cpu(masters);
                double nb1 = sum(cpu(neighbours));
                List<Map<String, long[]>> stats1 = ClusterScenario.commandStats(masters);
                long n = p1 - p0;
                double[] perEvent = new double[masters.size()];
                double all = 0;
                for (int i = 0; i < perEvent.length; i++) {
                    perEvent[i] = (cpu1[i] - cpu0[i]) * 1e6 / n;
                    all += perEvent[i];
                }
                stop.set(true);
                publisher.join(10_000);
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                while (handled.get() < published.get() && System.nanoTime() < until) {
                    TimeUnit.MILLISECONDS.sleep(20);
                }
                return new Pass(rate, n, h1 - h0, p1 - h1, window, perEvent, bare, ClusterScenario.summed(stats0, stats1),
                        ClusterScenario.allCommands(stats0, stats1, n, all), (nb1 - nb0) * 1e6 / window);
            } finally {
                stop.set(true);
                publisher.join(10_000);
                if (busy != null) {
                    busy.close();
                }
                s.close();
            }
        } finally {
            ClusterScenario.flush(masters);
            if (!neighbours.isEmpty()) {
                ClusterScenario.flush(neighbours);
            }
        }
    }

    /**
     * Publishes what came due every {@link #TICK_MS} ms, a tick's share (rate / 100 events) per
     * batch: a batch puts about rate / 100 / P events in each partition's script call, so the
     * publishes weigh per event as a producer batching its sends would, the same on both clusters.
     * Behind, it sends several such batches, not one larger: merged batches made fewer publish
     * calls per event on whichever cluster answered slower. One batch at a time: where a round
     * trip takes longer than a tick's share allows (a loaded machine), the rate is not reached,
     * which the pass's row says ({@link Pass#keptUp}).
     */
    private static void publish(RedisEventTransport out, int rate, AtomicLong published, AtomicBoolean stop) {
        long start = System.nanoTime();
        long next = start;
        long sent = 0;
        List<WorkflowEvent> batch = new ArrayList<>();
        long perTick = Math.max(1, rate * TICK_MS / 1000);
        while (!stop.get()) {
            next += TimeUnit.MILLISECONDS.toNanos(TICK_MS);
            for (long wait = next - System.nanoTime(); wait > 0; wait = next - System.nanoTime()) {
                LockSupport.parkNanos(wait);
            }
            long due = (System.nanoTime() - start) * rate / 1_000_000_000L;
            while (sent < due && !stop.get()) {
                batch.clear();
                for (long k = sent; k < due && batch.size() < perTick; k++) {
                    batch.add(WorkflowEvent.builder("NOOP").eventId("paced-" + k)
                            .executionId("x" + (k % ClusterScenario.MANY_KEYS)).build());
                }
                out.publishAll(batch);
                sent += batch.size();
                published.set(sent);
            }
        }
    }

    private static double[] cpu(List<HostAndPort> servers) {
        double[] out = new double[servers.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ClusterScenario.cpuSeconds(servers.get(i));
        }
        return out;
    }

    private static double sum(double[] v) {
        double t = 0;
        for (double x : v) {
            t += x;
        }
        return t;
    }

    /**
     * The commands that weigh (0.01 us per event or more on any pass), each as calls per event
     * and us per call on every pass given, in order: what a dearer call and what more calls each
     * add. Calls a script makes count in its {@code evalsha} too (commandstats counts both).
     */
    static String perCall(List<Pass> passes) {
        TreeMap<String, Double> weight = new TreeMap<>();
        for (Pass p : passes) {
            p.perCommand().forEach((cmd, v) -> weight.merge(cmd, v[1] / (double) p.published(), Math::max));
        }
        StringBuilder sb = new StringBuilder();
        weight.entrySet().stream().filter(e -> e.getValue() >= 0.01)
                .sorted((x, y) -> Double.compare(y.getValue(), x.getValue())).forEach(e -> {
                    sb.append(e.getKey()).append(' ');
                    for (int k = 0; k < passes.size(); k++) {
                        long[] v = passes.get(k).perCommand().getOrDefault(e.getKey(), new long[2]);
                        sb.append(k == 0 ? "" : " -> ").append(String.format("%.4f x %.1f us", v[0]
                                / (double) passes.get(k).published(), v[0] == 0 ? 0 : v[1] / (double) v[0]));
                    }
                    sb.append("; ");
                });
        return sb.toString();
    }

    /** {@return the us per event of {@code calls}' commands at {@code prices}' us per call} */
    private static double atPrices(Pass calls, Pass prices) {
        double t = 0;
        for (Map.Entry<String, long[]> e : calls.perCommand().entrySet()) {
            long[] p = prices.perCommand().get(e.getKey());
            if (p != null && p[0] > 0) {
                t += e.getValue()[0] / (double) calls.published() * (p[1] / (double) p[0]);
            }
        }
        return t;
    }

    /**
     * The paced rows: per rate, 1 master and 3 masters (gross and net of the masters' own CPU);
     * at the highest rate, with {@code control}, the one master beside two busy neighbours; with
     * two rates or more, each cluster's CPU per event split into a per-event part and a
     * by-the-second part (c = a + b / rate, from the lowest and highest rate).
     */
    static List<BenchmarkMain.Row> rows(List<Integer> rates, Map<Integer, Pass[]> passes, Pass control) {
        List<BenchmarkMain.Row> rows = new ArrayList<>();
        for (int rate : rates) {
            Pass one = passes.get(rate)[0];
            Pass three = passes.get(rate)[1];
            String at = "paced " + rate + "/s: ";
            rows.add(new BenchmarkMain.Row("cluster paced", at + "1 master, Redis us/event", one.total(), "us",
                    one.describe()));
            rows.add(new BenchmarkMain.Row("cluster paced", at + "3 masters, Redis us/event", three.total(), "us",
                    three.describe()));
            rows.add(new BenchmarkMain.Row("cluster paced", at + "3 / 1", three.total() / one.total(), "x",
                    String.format("target <= 1.1; net of the masters' own CPU x%.3f (%.3f / %.3f us)",
                            three.net() / one.net(), three.net(), one.net())));
            List<Pass> compared = new ArrayList<>(List.of(one, three));
            String names = "1 master -> 3 masters";
            if (control != null && control.rate() == rate) {
                compared.add(control);
                names += " -> 1 master beside 2 busy neighbours";
                rows.add(new BenchmarkMain.Row("cluster paced", at + "1 master + 2 busy neighbours", control.total(),
                        "us", String.format("x%.3f of 1 master alone, 3 masters x%.3f of this; neighbours %.0f us/s "
                                + "in all (target: the 3 masters' two others, %.0f us/s); %s",
                                control.total() / one.total(), three.total() / control.total(),
                                control.neighboursMicrosPerSecond(), 2 * three.microsPerSecond() / 3,
                                control.describe())));
            }
            rows.add(new BenchmarkMain.Row("cluster paced", at + "per call", Double.NaN, "",
                    names + ": calls/event x us/call: " + perCall(compared)));
            rows.add(new BenchmarkMain.Row("cluster paced", at + "3 masters' calls at 1 master's prices",
                    atPrices(three, one) / atPrices(one, one), "x", "sum over commands of calls/event x the 1-master"
                    + " pass's us/call, 3 masters over 1: what the calls alone would cost if each cost what it costs"
                    + " one master alone on its core (commandstats time: inner calls of scripts count twice)"));
            rows.add(new BenchmarkMain.Row("cluster paced", at + "1 master, every command", one.total(), "us", one.all()));
            rows.add(new BenchmarkMain.Row("cluster paced", at + "3 masters, every command", three.total(), "us",
                    three.all()));
        }
        if (rates.size() >= 2) {
            int lo = rates.stream().min(Integer::compare).orElseThrow();
            int hi = rates.stream().max(Integer::compare).orElseThrow();
            double[] a = new double[2];
            double[] b = new double[2];
            for (int k = 0; k < 2; k++) {
                double cLo = passes.get(lo)[k].total();
                double cHi = passes.get(hi)[k].total();
                b[k] = (cLo - cHi) / (1.0 / lo - 1.0 / hi);
                a[k] = cLo - b[k] / lo;
            }
            rows.add(new BenchmarkMain.Row("cluster paced", "per-event part, 3 / 1", a[1] / a[0], "x",
                    String.format("c = a + b / rate from %d/s and %d/s: 1 master a %.3f us, b %.0f us/s; 3 masters "
                            + "a %.3f us, b %.0f us/s", lo, hi, a[0], b[0], a[1], b[1])));
        }
        return rows;
    }
}
