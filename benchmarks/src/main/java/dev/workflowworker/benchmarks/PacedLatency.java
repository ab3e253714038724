package dev.workflowworker.benchmarks;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.WorkerService;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The latency rows' load: events published at a fixed rate over 100 keys, each timed from just
 * before its publish to the start of its handler, on one clock ({@code System.nanoTime}, one JVM).
 *
 * <p>The service is warmed at the measured rate, unmeasured, until the JIT compilers settle
 * ({@link #SETTLED_PASSES} passes in a row compiling under 2 % of the pass). 500 events and a
 * second used to be the warm-up: the measured window then held seconds of compilation (6-7 s of
 * compiler time in 30 s), and the events that ran beside it made much of the p99
 * (docs/BENCHMARKS.md, "Latency: where the p99 went (session 15)"). The first pass's figures
 * are kept as the cold service's row, so start-up latency stays visible.
 */
final class PacedLatency {

    /** The length of a warm-up pass. */
    private static final int PASS_SECONDS = 2;
    /**
     * Warm-up passes at least and at most: on a machine too loaded to settle the row still gets a
     * figure, and its note says the compiler did not settle.
     */
    private static final int MIN_PASSES = 3;
    private static final int MAX_PASSES = 15;
    /** Quiet passes in a row that count as settled. */
    private static final int SETTLED_PASSES = 2;

    /** How one paced event is written; its handler finds the timing headers in {@code headers}. */
    interface Publish {
        void send(WorkerService s, String executionId, Map<String, String> headers);
    }

    /** Through the service's own publisher. */
    static final Publish DIRECT = (s, executionId, headers) -> s.publisher().publish(
            WorkflowEvent.builder("PING").executionId(executionId).headers(headers).build());

    private final Publish publish;
    private final Recorder rec = new Recorder(3);
    /** From each event's due time: what an outside producer's events would see (see {@link #pace}). */
    private final Recorder fromDue = new Recorder(3);
    private final String name;
    private final int perSecond;
    private volatile LatencyTrace trace;
    private volatile CountDownLatch done = new CountDownLatch(0);

    PacedLatency(String name, int perSecond) {
        this(name, perSecond, DIRECT);
    }

    PacedLatency(String name, int perSecond, Publish publish) {
        this.name = name;
        this.perSecond = perSecond;
        this.publish = publish;
    }

    Consumer<EventContext> handler() {
        return ctx -> {
            long now = System.nanoTime();
            long sentNanos = Long.parseLong(ctx.event().headers().get("sent_ns"));
            rec.recordValue(now - sentNanos);
            fromDue.recordValue(now - Long.parseLong(ctx.event().headers().get("due_ns")));
            LatencyTrace t = trace;
            if (t != null) {
                t.record(Integer.parseInt(ctx.event().headers().get("seq")), sentNanos, now - sentNanos);
            }
            done.countDown();
        };
    }

    /**
     * Warms {@code s} (started) up, then measures {@code seconds} at the rate.
     *
     * @return the rows: the cold first pass's p50/p99, then the measured window's p50/p99/p99.9/max
     */
    List<BenchmarkMain.Row> run(WorkerService s, int seconds, String scenario, String note) throws Exception {
        Histogram cold = null;
        int passes = 0;
        int settled = 0;
        while (passes < MAX_PASSES && (passes < MIN_PASSES || settled < SETTLED_PASSES)) {
            long compiled = compileMillis();
            long t0 = System.nanoTime();
            Histogram h = pace(s, perSecond * PASS_SECONDS, null);
            double share = (compileMillis() - compiled) / ((System.nanoTime() - t0) / 1e6);
            passes++;
            settled = share < 0.02 ? settled + 1 : 0;
            if (cold == null) {
                cold = h;
            }
            System.out.printf("%s warm-up pass %d: p50 %.3f p99 %.3f ms, compiled %.1f%% of the pass%n", name, passes,
                    h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6, 100 * share);
        }
        LatencyTrace t = new LatencyTrace(name, perSecond * seconds);
        t.windowStart();
        Histogram p = pace(s, perSecond * seconds, t);
        Histogram due = fromDue.getIntervalHistogram();
        t.windowEnd();
        t.report();
        List<BenchmarkMain.Row> rows = new ArrayList<>();
        rows.add(new BenchmarkMain.Row(scenario, "publish -> handler p50", p.getValueAtPercentile(50) / 1e6, "ms",
                perSecond + "/s for " + seconds + " s, " + p.getTotalCount() + " events" + note + "; " + t.note()
                        + "; after " + passes + " warm-up passes of " + PASS_SECONDS + " s"
                        + (settled >= SETTLED_PASSES ? "" : " (the compiler did not settle)")));
        rows.add(new BenchmarkMain.Row(scenario, "publish -> handler p99", p.getValueAtPercentile(99) / 1e6, "ms",
                "target <= 1 ms; timed from the send, which hides a stalled publisher: see the due-time row"));
        rows.add(new BenchmarkMain.Row(scenario, "publish -> handler p99.9", p.getValueAtPercentile(99.9) / 1e6, "ms", ""));
        rows.add(new BenchmarkMain.Row(scenario, "publish -> handler max", p.getMaxValue() / 1e6, "ms", ""));
        rows.add(new BenchmarkMain.Row(scenario, "  due -> handler p99 / p99.9", due.getValueAtPercentile(99) / 1e6, "ms",
                String.format("target <= 1 ms too; p99.9 %.3f ms, max %.3f ms: from the pacer's due time, so a stall of the publishing"
                        + " JVM counts for the events it delayed", due.getValueAtPercentile(99.9) / 1e6, due.getMaxValue() / 1e6)));
        rows.add(new BenchmarkMain.Row(scenario, "  cold: first " + PASS_SECONDS + " s p50 / p99",
                cold.getValueAtPercentile(50) / 1e6, "ms", String.format("p99 %.3f ms, max %.3f ms: a fresh service",
                cold.getValueAtPercentile(99) / 1e6, cold.getMaxValue() / 1e6)));
        return rows;
    }

    /**
     * Publishes {@code n} events at the rate and waits for their handlers. A publish that falls
     * behind its due time is sent at once, so a stall is followed by a short burst. Timed from the
     * send, a stall of this JVM (a GC pause, the publisher descheduled) delays the sends as well as
     * the handlers, and the events it delayed look fast: the "due" figures time them from when they
     * were due instead, as events from a producer outside this JVM would see it.
     */
    private Histogram pace(WorkerService s, int n, LatencyTrace t) throws InterruptedException {
        CountDownLatch latch = new CountDownLatch(n);
        done = latch;
        trace = t;
        rec.reset();
        fromDue.reset();
        long start = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long due = start + TimeUnit.SECONDS.toNanos(1) * i / perSecond;
            untilDue(due);
            publish.send(s, "x" + (i % 100), Map.of("sent_ns", Long.toString(System.nanoTime()),
                    "due_ns", Long.toString(due), "seq", Integer.toString(i)));
        }
        if (!latch.await(2, TimeUnit.MINUTES)) {
            throw new IllegalStateException(name + ": " + latch.getCount() + " of " + n + " events not handled in 2 min");
        }
        trace = null;
        return rec.getIntervalHistogram();
    }

    /**
     * Sleeps until {@code due} on the monotonic clock. Not {@code TimeUnit.sleep}: on Java 17 it
     * sleeps at least a whole millisecond for any wait under one ({@code Thread.sleep(ms, ns)}
     * rounds the nanoseconds up), so at 1,000/s, where every wait is under a millisecond, each
     * event went out up to 1.1 ms after its due time, and the due-time row timed the pacer's
     * sleep (docs/BENCHMARKS.md, "jlat2"). {@code parkNanos} wakes within tens of microseconds.
     */
    private static void untilDue(long due) throws InterruptedException {
        for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
            LockSupport.parkNanos(wait);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    private static long compileMillis() {
        return ManagementFactory.getCompilationMXBean().getTotalCompilationTime();
    }
}
