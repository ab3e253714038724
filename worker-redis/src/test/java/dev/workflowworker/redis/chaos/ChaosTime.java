package dev.workflowworker.redis.chaos;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.redis.PartitionRouting;
import redis.clients.jedis.Jedis;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The partitioned chaos run's time load: delayed events into executions that also receive ordinary
 * events, and one schedule firing every second, all under the run's faults. The handlers write the
 * ledger ({@link ChaosWorkerMain}); this class plans what is expected and judges it.
 *
 * <p>Order, for a delayed event, is where it joins its execution: it enters the partition when it
 * is moved, at or after its due time, so every ordinary event of its execution whose publish was
 * acknowledged before the due time must have been applied before it, and every one whose publish
 * was sent after its handler started (so after it was moved) must come after it. Those published in
 * between may fall on either side and are not judged. The handler records, with its effect, the
 * highest sequence of its execution applied so far ({@link ChaosWorkerMain#DELAYED_BEFORE}) and when
 * it started ({@link ChaosWorkerMain#DELAYED_AT}), both on the machine's one clock that the producer reads
 * too. Executions of the seed-format producer are left out: the router moves their events into the
 * partition later than their publish.
 *
 * <p>The schedule's occurrences are its scheduled instants from the first (as creating it answered)
 * to its end, a second apart. Its misfire policy is the default, FIRE_ONCE with a one-minute
 * threshold: an occurrence looked at more than a minute late is coalesced into the latest such
 * one, which fires for it. No fault of the plan lasts that long, but on a loaded machine the run
 * itself can: a kill picks any worker, and when it picks the only one running while the one
 * started for the previous kill is still starting (37 to 51 s from launch to its first report at
 * load 20, longer at 40 to 65), no process holds the schedule's partition until that one is up.
 * So an occurrence without an effect counts as coalesced, not lost, only when a later one ran
 * whose handler started more than the threshold after the missed one's scheduled instant (the look
 * that fired it found the missed one that late); any other is lost. Their order is checked by the
 * handlers' order ledger, with the scheduled second as the sequence.
 */
final class ChaosTime {

    static final String DELAYED = "DELAYED";
    static final String TICK = "TICK";
    static final String SCHEDULE = "chaos-tick";

    /** What was published for one ordinary event, by the producer's clock. */
    private record Ordinary(int seq, long sentAt, long ackedAt) {
    }

    /** One delayed event: null published when its answer was lost (it may run at most once). */
    private record Delayed(String id, String execution, long due, Boolean published) {
    }

    /** The judgement, from the ledger. */
    record Figures(int delayedPublished, int delayedUnknown, long delayedLost, long delayedOrderViolations,
                   long delayedOrderJudged, int tickExpected, long tickLost, long tickExtra, long tickCoalesced) {

        static final Figures NONE = new Figures(0, 0, 0, 0, 0, 0, 0, 0, 0);

        boolean hold() {
            return delayedLost == 0 && delayedOrderViolations == 0 && tickLost == 0 && tickExtra == 0;
        }
    }

    private final int executions;
    private final int partitions;
    private final Map<String, List<Ordinary>> ordinary = new ConcurrentHashMap<>();
    private final List<Delayed> delayed = new CopyOnWriteArrayList<>();
    private final Random random = new Random(11);
    private volatile List<Long> tickOccurrences = List.of();
    /** The schedule's execution id, set when it is created. */
    private volatile String tickerExecution;
    /** The schedule's misfire threshold (FIRE_ONCE, the default policy). */
    private volatile long misfireThresholdMillis = Schedule.every(SCHEDULE, Duration.ofSeconds(1)).eventType(TICK).build()
            .misfireThreshold().toMillis();
    /** The publishing window's end: no delayed event is due later, so they add nothing to the run's length. */
    private volatile long end = Long.MAX_VALUE;

    ChaosTime(int executions, int partitions) {
        this.executions = executions;
        this.partitions = partitions;
    }

    /** The ticker's execution id: one living in {@code partition}, so a fault aimed there meets it. */
    String tickerExecution(int partition) {
        for (int i = 0; ; i++) {
            if (PartitionRouting.partitionOf("chaos-ticker-" + i, partitions) == partition) {
                return "chaos-ticker-" + i;
            }
        }
    }

    /** Creates the schedule, firing every second until {@code end}. */
    void createSchedule(Schedules schedules, String execution, long end) {
        this.end = end;
        this.tickerExecution = execution;
        Schedule schedule = Schedule.every(SCHEDULE, Duration.ofSeconds(1)).eventType(TICK)
                .executionId(execution).end(Instant.ofEpochMilli(end)).build();
        misfireThresholdMillis = schedule.misfireThreshold().toMillis();
        ScheduleInfo info = schedules.put(schedule);
        List<Long> xs = new ArrayList<>();
        for (long x = info.nextFire().toEpochMilli(); x <= end; x += 1000) {
            xs.add(x);
        }
        occurrences(xs);
    }

    /** Whether ordinary event {@code i} of the producer also brings a delayed event into its execution. */
    boolean bringsDelayed(int i) {
        return i % 25 == 12 && (i % executions) % 10 != 0;
    }

    /** The producer's record of an ordinary event's publish: sent (first try) and acknowledged. */
    void published(String execution, int seq, long sentAt, long ackedAt) {
        ordinary.computeIfAbsent(execution, k -> new CopyOnWriteArrayList<>()).add(new Ordinary(seq, sentAt, ackedAt));
    }

    /**
     * Publishes delayed event {@code id} into {@code execution}, due 1 to 4 s ahead (at most at the
     * window's end, unless that is less than a second away). A publish is
     * safe to repeat while the event waits, so it is retried through an outage, but not once the
     * event may have been moved: then its answer is unknown.
     */
    void publishDelayed(DelayedEvents api, String id, String execution) {
        long now = System.currentTimeMillis();
        long due = Math.min(now + 1000 + random.nextInt(3000), Math.max(end, now + 1000));
        WorkflowEvent e = WorkflowEvent.builder(DELAYED).eventId(id).executionId(execution).build();
        while (System.currentTimeMillis() < due - 500) {
            try {
                api.publishAt(e, Instant.ofEpochMilli(due));
                planned(id, execution, due, true);
                return;
            } catch (RuntimeException ex) {
                sleepQuietly(50);
            }
        }
        planned(id, execution, due, null);
    }

    /** Records a delayed event and the publish's answer (null: lost). */
    void planned(String id, String execution, long due, Boolean published) {
        delayed.add(new Delayed(id, execution, due, published));
    }

    /** Records the schedule's expected occurrences. */
    void occurrences(List<Long> scheduled) {
        tickOccurrences = List.copyOf(scheduled);
    }

    /**
     * The ids that must complete once (the delayed events published, the schedule's occurrences),
     * each with its execution and due time, for telling a late one from a lost one.
     */
    List<ChaosMissing.Expected> expected() {
        List<ChaosMissing.Expected> out = new ArrayList<>();
        for (Delayed d : delayed) {
            if (d.published() != null) {
                out.add(new ChaosMissing.Expected(d.id(), d.execution(), d.due(), false));
            }
        }
        for (long x : tickOccurrences) {
            out.add(new ChaosMissing.Expected(SCHEDULE + ":" + x, tickerExecution, x, true));
        }
        return out;
    }

    Figures judge(Jedis ledger) {
        return judge(ledger.hgetAll(ChaosWorkerMain.DONE), ledger.hgetAll(ChaosWorkerMain.DELAYED_BEFORE),
                ledger.hgetAll(ChaosWorkerMain.DELAYED_AT), ledger.hgetAll(ChaosWorkerMain.TICK_AT));
    }

    /** {@return the ids expected and neither applied nor (occurrences) coalesced by the misfire policy, from the ledger} */
    Set<String> missing(Jedis ledger) {
        return missing(ledger.hgetAll(ChaosWorkerMain.DONE), ledger.hgetAll(ChaosWorkerMain.TICK_AT));
    }

    /** {@return the expected ids without an applied effect that no coalescing explains} See the class comment. */
    Set<String> missing(Map<String, String> done, Map<String, String> tickAt) {
        Set<String> out = new HashSet<>();
        for (Delayed d : delayed) {
            if (d.published() != null && !done.containsKey(d.id())) {
                out.add(d.id());
            }
        }
        for (long x : tickOccurrences) {
            if (!done.containsKey(SCHEDULE + ":" + x) && !coalesced(x, done, tickAt)) {
                out.add(SCHEDULE + ":" + x);
            }
        }
        return out;
    }

    /** Whether occurrence {@code x}, not applied, was coalesced: a later one ran, started more than the threshold after x. */
    private boolean coalesced(long x, Map<String, String> done, Map<String, String> tickAt) {
        for (long y : tickOccurrences) {
            String at = tickAt.get(SCHEDULE + ":" + y);
            if (y > x && done.containsKey(SCHEDULE + ":" + y) && at != null
                    && Long.parseLong(at) - x > misfireThresholdMillis) {
                return true;
            }
        }
        return false;
    }

    /** The judgement from the ledger's hashes: effects applied, per delayed event its place and start, per occurrence its start. */
    Figures judge(Map<String, String> done, Map<String, String> before, Map<String, String> at,
                  Map<String, String> tickAt) {
        int published = 0;
        int unknown = 0;
        long lost = 0;
        long violations = 0;
        long judged = 0;
        for (Delayed d : delayed) {
            if (d.published() == null) {
                unknown++;
            } else {
                published++;
                if (!done.containsKey(d.id())) {
                    lost++;
                }
            }
            if (!before.containsKey(d.id())) {
                continue;
            }
            long applied = Long.parseLong(before.get(d.id()));
            long startedAt = Long.parseLong(at.get(d.id()));
            for (Ordinary o : ordinary.getOrDefault(d.execution(), List.of())) {
                if (o.ackedAt() < d.due()) {
                    judged++;
                    violations += o.seq() > applied ? 1 : 0; // in the stream before it, not applied before it
                } else if (o.sentAt() > startedAt) {
                    judged++;
                    violations += o.seq() <= applied ? 1 : 0; // published after it started, applied before it
                }
            }
        }
        Set<String> expectedTicks = new HashSet<>();
        long tickLost = 0;
        long tickCoalesced = 0;
        for (long x : tickOccurrences) {
            expectedTicks.add(SCHEDULE + ":" + x);
            if (!done.containsKey(SCHEDULE + ":" + x)) {
                if (coalesced(x, done, tickAt)) {
                    tickCoalesced++;
                } else {
                    tickLost++;
                }
            }
        }
        long extra = done.keySet().stream().filter(id -> id.startsWith(SCHEDULE + ":") && !expectedTicks.contains(id))
                .count();
        return new Figures(published, unknown, lost, violations, judged, tickOccurrences.size(), tickLost, extra,
                tickCoalesced);
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
