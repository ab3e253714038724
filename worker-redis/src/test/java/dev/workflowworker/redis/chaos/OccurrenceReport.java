package dev.workflowworker.redis.chaos;

import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.redis.chaos.OccurrenceChaosRun.Answer;
import dev.workflowworker.redis.chaos.OccurrenceChaosRun.Delayed;
import dev.workflowworker.redis.chaos.OccurrenceLedger.Event;
import dev.workflowworker.redis.chaos.OccurrenceLedger.Start;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;

/**
 * The checks of the occurrence chaos run, from the handlers' ledger, against what is expected
 * from the schedules' definitions and the answers the API gave. One case only Redis can judge: an
 * effect with no success and no rerun is completed when the event's own commit is in Redis, its
 * reply lost ({@link OccurrenceLedger#landedCommits}).
 *
 * <p><b>tick</b> (every second, default misfire policy FIRE_ONCE with its 1 minute threshold):
 * expected are all its scheduled instants from the first (as its creation answered) to its end.
 * No outage of the run (a takeover, a Redis restart) comes near the threshold, so every one of
 * them is late by less than it when its owner looks, and the policy fires each: each must
 * complete exactly once, and no other occurrence id of it may run.
 *
 * <p><b>tick-once</b> (every second, FIRE_ONCE with a threshold shorter than a takeover): the
 * occurrences missed by more than the threshold in one look are coalesced into the latest of
 * them. From the ledger: none ran twice or out of its set; each one that did not run is followed
 * by one that ran and started more than the threshold after the missed one was scheduled (the look
 * that coalesced it found it that late); the last one ran (after downtime, at least the latest
 * missed one fires).
 *
 * <p><b>Delayed events</b>: each published and not cancelled (by a cancel that answered true or
 * whose answer was lost) completes exactly once; a cancel that answered true means it never runs;
 * no handler starts before its due time (its due-at header, and the time the API answers gave);
 * within an execution id, events start in their due order, each after the one before settled.
 */
record OccurrenceReport(OccurrenceChaosRun.Settings settings, OccurrenceLedger ledger, Set<String> killed,
                        List<Long> tickOccurrences, List<Long> onceOccurrences, List<Delayed> delayed,
                        ScheduleInfo tickInfo, ScheduleInfo onceInfo, List<Long> takeoverMillis, List<long[]> faults,
                        long tickPutSent, long tickPutAnswered, long unsettledAtEnd, long seconds) {

    // ---- what the run could judge

    /**
     * Why the run could not judge what it means to, or "" when it could. The expected occurrences
     * follow from the run's own timing: {@code tick} fires every whole second (counted from the
     * epoch), so its first occurrence is the first second after its creation, which happened
     * while the put was under way ({@code tickPutSent} to {@code tickPutAnswered}), and every
     * second from there to its end is expected; at load 40 to 65 the put alone took seconds, and a
     * count fixed from the window (the window less 2) failed a run that lost nothing. And every
     * fault (kill, restart, failover) came while the schedule still had an occurrence to fire, so
     * each one met it.
     */
    String windowShortfall() {
        if (tickOccurrences.isEmpty()) {
            return "tick: no occurrence in the window";
        }
        long first = tickOccurrences.get(0);
        long last = tickOccurrences.get(tickOccurrences.size() - 1);
        if (first <= tickPutSent || first > tickPutAnswered + 1000) {
            return "tick: the first occurrence " + first + " is not the first second after the creation (put sent "
                    + tickPutSent + ", answered " + tickPutAnswered + ")";
        }
        for (long[] f : faults) {
            if (f[0] >= last) {
                return "a fault at " + f[0] + " came after tick's last occurrence " + last;
            }
        }
        return "";
    }

    // ---- tick

    long tickMissing() {
        return tickOccurrences.stream().filter(x -> !ledger.completed(OccurrenceChaosRun.TICK + ":" + x, killed)).count();
    }

    long tickCompleted() {
        return tickOccurrences.size() - tickMissing();
    }

    long tickDuplicates() {
        return duplicates(OccurrenceChaosRun.TICK + ":");
    }

    /** Occurrence ids of the schedule that ran but are not among its expected instants. */
    long tickExtra() {
        return extra(OccurrenceChaosRun.TICK + ":", tickOccurrences);
    }

    long tickBeforeDue() {
        return beforeDue(OccurrenceChaosRun.TICK + ":", id -> Long.parseLong(id.substring(OccurrenceChaosRun.TICK.length() + 1)));
    }

    long tickOrderViolations() {
        return orderViolations(ids(OccurrenceChaosRun.TICK, tickOccurrences));
    }

    // ---- tick-once

    long onceRan() {
        return onceOccurrences.stream().filter(x -> ran(OccurrenceChaosRun.TICK_ONCE + ":" + x)).count();
    }

    long onceCoalesced() {
        return onceOccurrences.size() - onceRan();
    }

    /** Missed occurrences with no later one run for them by a look that found them more than the threshold late. */
    long onceUnjustifiedSkips() {
        long n = 0;
        List<Long> xs = onceOccurrences;
        for (int k = 0; k < xs.size(); k++) {
            long x = xs.get(k);
            if (ran(OccurrenceChaosRun.TICK_ONCE + ":" + x)) {
                continue;
            }
            Long y = null;
            for (int m = k + 1; m < xs.size() && y == null; m++) {
                if (ran(OccurrenceChaosRun.TICK_ONCE + ":" + xs.get(m))) {
                    y = xs.get(m);
                }
            }
            if (y == null || ledger.get(OccurrenceChaosRun.TICK_ONCE + ":" + y).firstStart()
                    <= x + settings.onceThresholdMs()) {
                n++;
            }
        }
        return n;
    }

    boolean onceLastRan() {
        return ledger.completed(OccurrenceChaosRun.TICK_ONCE + ":" + onceOccurrences.get(onceOccurrences.size() - 1), killed);
    }

    long onceDuplicates() {
        return duplicates(OccurrenceChaosRun.TICK_ONCE + ":");
    }

    long onceExtra() {
        return extra(OccurrenceChaosRun.TICK_ONCE + ":", onceOccurrences);
    }

    long onceBeforeDue() {
        return beforeDue(OccurrenceChaosRun.TICK_ONCE + ":",
                id -> Long.parseLong(id.substring(OccurrenceChaosRun.TICK_ONCE.length() + 1)));
    }

    long onceOrderViolations() {
        List<String> ran = new ArrayList<>();
        for (long x : onceOccurrences) {
            if (ran(OccurrenceChaosRun.TICK_ONCE + ":" + x)) {
                ran.add(OccurrenceChaosRun.TICK_ONCE + ":" + x);
            }
        }
        return orderViolations(ran);
    }

    /** Whether the schedule's own count agrees with the ledger: each occurrence fired or counted skipped. */
    boolean onceCountsAgree() {
        return onceInfo.fired() == onceRan() && onceInfo.fired() + onceInfo.skipped() == onceOccurrences.size();
    }

    // ---- delayed

    long delayedPublished() {
        return delayed.stream().filter(d -> d.published == Answer.TRUE).count();
    }

    long delayedPublishUnknown() {
        return delayed.stream().filter(d -> d.published == Answer.UNKNOWN).count();
    }

    long delayedExpected() {
        return delayed.stream().filter(Delayed::mustRun).count();
    }

    long delayedCompleted() {
        return delayed.stream().filter(d -> d.mustRun() && ledger.completed(d.id, killed)).count();
    }

    long delayedMissing() {
        return delayedExpected() - delayedCompleted();
    }

    long delayedDuplicates() {
        return delayed.stream().filter(d -> ledger.get(d.id) != null && ledger.get(d.id).duplicated()).count();
    }

    long cancelledButRan() {
        return delayed.stream().filter(d -> d.cancelled == Answer.TRUE && ran(d.id)).count();
    }

    long answered(Function<Delayed, Answer> which, Answer a) {
        return delayed.stream().filter(d -> which.apply(d) == a).count();
    }

    /** Handler starts before the due-at header, or before the due time the API's answers gave. */
    long delayedBeforeDue() {
        long n = 0;
        for (Delayed d : delayed) {
            Event e = ledger.get(d.id);
            if (e == null) {
                continue;
            }
            for (Start s : e.starts) {
                if (s.dueAt() < 0 || s.at() < s.dueAt() || s.at() < d.earliestStart()) {
                    n++;
                }
            }
        }
        return n;
    }

    /** Due-at headers that are not the due time the answers say: the publish's, or a reschedule's that answered true. */
    long delayedWrongDueHeader() {
        long n = 0;
        for (Delayed d : delayed) {
            Event e = ledger.get(d.id);
            if (e == null || d.rescheduled == Answer.UNKNOWN) {
                continue;
            }
            long expected = d.rescheduled == Answer.TRUE ? d.newDue : d.due;
            for (Start s : e.starts) {
                if (s.dueAt() != expected) {
                    n++;
                }
            }
        }
        return n;
    }

    long delayedOrderViolations() {
        Map<String, List<String>> byExecution = new HashMap<>();
        for (Delayed d : delayed) {
            if (ran(d.id)) {
                byExecution.computeIfAbsent(d.execution, k -> new ArrayList<>()).add(d.id);
            }
        }
        long n = 0;
        for (List<String> ids : byExecution.values()) {
            ids.sort((a, b) -> Long.compare(dueAt(a), dueAt(b)));
            n += orderViolations(ids);
        }
        return n;
    }

    // ---- all

    long recognisedDuplicates() {
        return ledger.events.values().stream().mapToLong(e -> e.recognisedDuplicates.size()).sum();
    }

    long appendedTwice() {
        return ledger.events.values().stream().filter(e -> e.entries() > 1).count();
    }

    long reruns() {
        return ledger.events.values().stream().filter(e -> e.starts.size() > 1).count();
    }

    long completedUnrecorded() {
        return ledger.events.values().stream().filter(e -> e.completedUnrecorded(killed)).count();
    }

    /**
     * Events whose effect only live processes wrote, with no success recorded by any run and no
     * commit of their own in Redis: the run counts them missing, lost after the handler ran. (A
     * commit applied with its reply lost is told apart by Redis: {@link #commitReplyLost()}.)
     */
    long effectWithoutSuccessNotRerun() {
        return ledger.events.entrySet().stream().filter(e -> e.getValue().completions.isEmpty()
                && !e.getValue().completed(killed) && !e.getValue().effectPids.isEmpty()
                && !ledger.replyLost(e.getKey(), killed)).count();
    }

    /**
     * Events whose effect a live process wrote, with no success recorded and no rerun, whose own
     * commit Redis holds: Redis killed between applying the commit and sending its reply (the
     * engine reports an unknown outcome as no success). Completed once, not missing.
     */
    long commitReplyLost() {
        return ledger.events.keySet().stream().filter(id -> ledger.replyLost(id, killed)).count();
    }

    List<Long> lateness(String prefix) {
        List<Long> out = new ArrayList<>();
        for (Map.Entry<String, Event> e : ledger.events.entrySet()) {
            if (e.getKey().startsWith(prefix) && !e.getValue().starts.isEmpty()) {
                Start first = e.getValue().starts.stream().min((a, b) -> Long.compare(a.at(), b.at())).orElseThrow();
                out.add(first.at() - first.dueAt());
            }
        }
        Collections.sort(out);
        return out;
    }

    boolean promisesHold() {
        return tickMissing() == 0 && tickDuplicates() == 0 && tickExtra() == 0 && tickBeforeDue() == 0
                && tickOrderViolations() == 0
                && onceUnjustifiedSkips() == 0 && onceLastRan() && onceDuplicates() == 0 && onceExtra() == 0
                && onceBeforeDue() == 0 && onceOrderViolations() == 0 && onceCountsAgree()
                && delayedMissing() == 0 && delayedDuplicates() == 0 && cancelledButRan() == 0
                && delayedBeforeDue() == 0 && delayedWrongDueHeader() == 0 && delayedOrderViolations() == 0
                && unsettledAtEnd == 0;
    }

    String table() {
        StringBuilder sb = new StringBuilder();
        row(sb, "worker processes / partitions", settings.workers() + " / " + settings.partitions());
        row(sb, "owner kills (SIGKILL) + restarts", Integer.toString(settings.kills()));
        if (settings.cluster()) {
            row(sb, "Redis Cluster / waitForReplicas", "3 masters + 3 replicas / " + settings.waitReplicas());
            row(sb, "master kills (SIGKILL, failover)", Integer.toString(settings.redisRestarts()));
        } else {
            row(sb, "Redis restarts (SIGKILL, AOF always)", Integer.toString(settings.redisRestarts()));
        }
        row(sb, "takeover after each kill", takeoverMillis.toString() + " ms");
        row(sb, "tick: occurrences expected", tickOccurrences.size() + " (creation answered "
                + (tickPutAnswered - tickPutSent) + " ms after it was sent)");
        row(sb, "tick: completed / missing / extra", tickCompleted() + " / " + tickMissing() + " / " + tickExtra());
        row(sb, "tick: duplicate completions", Long.toString(tickDuplicates()));
        row(sb, "tick: ran before due / order violations", tickBeforeDue() + " / " + tickOrderViolations());
        row(sb, "tick: fired / skipped (schedule's counts)", tickInfo.fired() + " / " + tickInfo.skipped());
        row(sb, "tick: lateness p50 / p99 / max", percentiles(lateness(OccurrenceChaosRun.TICK + ":")));
        row(sb, "tick-once: occurrences in its window", Integer.toString(onceOccurrences.size()));
        row(sb, "tick-once: ran / coalesced (threshold " + settings.onceThresholdMs() + " ms)",
                onceRan() + " / " + onceCoalesced());
        row(sb, "tick-once: unjustified skips / last ran", onceUnjustifiedSkips() + " / " + onceLastRan());
        row(sb, "tick-once: duplicate / extra", onceDuplicates() + " / " + onceExtra());
        row(sb, "tick-once: ran before due / order violations", onceBeforeDue() + " / " + onceOrderViolations());
        row(sb, "tick-once: fired / skipped (schedule's counts)", onceInfo.fired() + " / " + onceInfo.skipped()
                + (onceCountsAgree() ? "" : " DISAGREE"));
        row(sb, "delayed: published (+ answer unknown)", delayedPublished() + " (+ " + delayedPublishUnknown() + ")");
        row(sb, "delayed: cancel true / false / unknown", answered(d -> d.cancelled, Answer.TRUE) + " / "
                + answered(d -> d.cancelled, Answer.FALSE) + " / " + answered(d -> d.cancelled, Answer.UNKNOWN));
        row(sb, "delayed: reschedule true / false / unknown", answered(d -> d.rescheduled, Answer.TRUE) + " / "
                + answered(d -> d.rescheduled, Answer.FALSE) + " / " + answered(d -> d.rescheduled, Answer.UNKNOWN));
        row(sb, "delayed: expected / completed / missing", delayedExpected() + " / " + delayedCompleted() + " / "
                + delayedMissing());
        row(sb, "delayed: duplicate completions", Long.toString(delayedDuplicates()));
        row(sb, "delayed: cancelled (true) but ran", Long.toString(cancelledButRan()));
        row(sb, "delayed: ran before due / wrong due-at", delayedBeforeDue() + " / " + delayedWrongDueHeader());
        row(sb, "delayed: order violations within execution", Long.toString(delayedOrderViolations()));
        row(sb, "delayed: lateness p50 / p99 / max", percentiles(lateness("d-")));
        row(sb, "handler re-runs (allowed: kill before commit)", Long.toString(reruns()));
        row(sb, "completed, killed before recording", Long.toString(completedUnrecorded()));
        row(sb, "effect by a live process, no success recorded", Long.toString(effectWithoutSuccessNotRerun()));
        row(sb, "commit in Redis, its reply lost (not missing)", Long.toString(commitReplyLost()));
        row(sb, "redeliveries recognised as duplicates", Long.toString(recognisedDuplicates()));
        row(sb, "event ids delivered from 2+ entries", Long.toString(appendedTwice()));
        row(sb, "unsettled entries at end", Long.toString(unsettledAtEnd));
        row(sb, "ledger records", Long.toString(ledger.records));
        row(sb, "wall time", seconds + " s");
        return sb.toString();
    }

    // ---- helpers

    private boolean ran(String id) {
        Event e = ledger.get(id);
        return e != null && (!e.starts.isEmpty());
    }

    private long duplicates(String prefix) {
        return ledger.events.entrySet().stream().filter(e -> e.getKey().startsWith(prefix) && e.getValue().duplicated())
                .count();
    }

    private long extra(String prefix, List<Long> expected) {
        Set<String> ids = new HashSet<>();
        for (long x : expected) {
            ids.add(prefix + x);
        }
        return ledger.events.keySet().stream().filter(id -> id.startsWith(prefix) && !ids.contains(id)
                && id.substring(prefix.length()).matches("\\d+")).count();
    }

    private long beforeDue(String prefix, Function<String, Long> scheduled) {
        long n = 0;
        for (Map.Entry<String, Event> e : ledger.events.entrySet()) {
            String id = e.getKey();
            if (!id.startsWith(prefix) || !id.substring(prefix.length()).matches("\\d+")) {
                continue;
            }
            for (Start s : e.getValue().starts) {
                if (s.dueAt() < 0 || s.at() < s.dueAt() || s.at() < scheduled.apply(id)) {
                    n++;
                }
            }
        }
        return n;
    }

    private static List<String> ids(String schedule, List<Long> xs) {
        List<String> out = new ArrayList<>();
        for (long x : xs) {
            out.add(schedule + ":" + x);
        }
        return out;
    }

    /**
     * Consecutive pairs (a, b) of one execution, in the order given, where a handler of b started
     * before the last handler of a did: b ran before a settled.
     */
    private long orderViolations(List<String> inOrder) {
        long n = 0;
        String prev = null;
        for (String id : inOrder) {
            Event e = ledger.get(id);
            if (e == null || e.starts.isEmpty()) {
                continue;
            }
            if (prev != null && ledger.get(prev).lastStart() > e.firstStart()) {
                n++;
            }
            prev = id;
        }
        return n;
    }

    private long dueAt(String id) {
        return ledger.get(id).starts.get(0).dueAt();
    }

    private static String percentiles(List<Long> sorted) {
        if (sorted.isEmpty()) {
            return "-";
        }
        return sorted.get((sorted.size() - 1) / 2) + " / " + sorted.get((int) Math.ceil(sorted.size() * 0.99) - 1)
                + " / " + sorted.get(sorted.size() - 1) + " ms";
    }

    private static void row(StringBuilder sb, String k, String v) {
        sb.append(String.format("| %-46s | %-26s |%n", k, v));
    }
}
