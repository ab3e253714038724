package dev.workflowworker.redis.chaos;

import redis.clients.jedis.Jedis;
import redis.clients.jedis.UnifiedJedis;

import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * The stale-owner fault of the chaos run (partitioned): the JVM holding a partition's lease is
 * stopped with SIGSTOP past its leases; the run waits, bounded, until another process holds every
 * partition the stopped one held and has committed in each (it took over and went on), and then
 * resumes it with SIGCONT. Whatever the resumed JVM read before it stopped and then tries to commit
 * must change nothing: the run's duplicate, order and dead-letter checks judge that from the
 * handlers' ledger, and this class adds whose effects the downstream fence refused (the resumed
 * JVM's only) and how many of the resumed JVM's outcomes the library refused for a lost lease.
 */
final class ChaosFreezes {

    /** What the freezes did, from the partitions' leases and the handlers' ledger. */
    record Figures(int freezes, List<Integer> heldAtEachStop, int partitionsHeld, int partitionsTakenOver,
                   List<Long> takeoverMillis, long refusedEffectsOfResumed, long staleEffectsOfOthers,
                   long leaseLostOfResumed) {

        static final Figures NONE = new Figures(0, List.of(), 0, 0, List.of(), 0, 0, 0);

        /**
         * Every stopped JVM held a partition when stopped (a freeze of one holding none tests
         * nothing), every partition it held was taken over and went on, and no JVM that was never
         * stopped met the fence.
         */
        boolean hold() {
            return heldAtEachStop.size() == freezes && heldAtEachStop.stream().allMatch(n -> n > 0)
                    && partitionsTakenOver == partitionsHeld && staleEffectsOfOthers == 0;
        }
    }

    private final long lockTtlMillis;
    private final int partitions;
    private final IntFunction<String> partitionKey;
    private final Supplier<UnifiedJedis> queue;
    private final Set<Long> stopped = new HashSet<>();
    private final List<Long> takeoverMillis = new ArrayList<>();
    private final List<Integer> heldAtEachStop = new ArrayList<>();
    private int freezes;
    private int held;
    private int takenOver;

    /** @param lockTtlMillis the lock TTL; the workers' partition lease is twice it ({@link ChaosWorkerMain}) */
    ChaosFreezes(long lockTtlMillis, int partitions, IntFunction<String> partitionKey, Supplier<UnifiedJedis> queue) {
        this.lockTtlMillis = lockTtlMillis;
        this.partitions = partitions;
        this.partitionKey = partitionKey;
        this.queue = queue;
    }

    /**
     * Stops the owner of partition {@code n % partitions} (or, if no live worker holds it, the one
     * holding most), waits until its partitions are another's and have moved on, and resumes it.
     * The victim must hold a lease when it is stopped, read after the SIGSTOP (a stopped JVM renews
     * and takes nothing): one that held none is resumed at once and the pick is made again, for up
     * to ten lease TTLs, after which the run fails rather than count a freeze that tested nothing.
     */
    void freeze(List<Process> workers, int n) throws IOException, InterruptedException {
        Process victim = null;
        Map<Integer, String> holding = Map.of();
        long pickUntil = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(lockTtlMillis * 2 * 10);
        while (holding.isEmpty()) {
            if (System.nanoTime() - pickUntil > 0) {
                throw new AssertionError("freeze " + n + ": no live worker held a partition lease when stopped, for "
                        + lockTtlMillis * 2 * 10 + " ms");
            }
            boolean stopped = false;
            try (UnifiedJedis j = queue.get()) {
                victim = owner(j, workers, n % partitions);
                // None held right now (a takeover under way): pick again.
                if (!heldBy(j, victim.pid()).isEmpty()) {
                    signal(victim.pid(), "STOP");
                    stopped = true;
                    holding = heldBy(j, victim.pid());
                }
            } catch (RuntimeException e) {
                // Redis busy: pick again.
            }
            if (holding.isEmpty()) {
                if (stopped) {
                    signal(victim.pid(), "CONT");
                }
                Thread.sleep(100);
            }
        }
        Map<Integer, String> committedAtStop = holding;
        long pid = victim.pid();
        long stoppedAt = System.nanoTime();
        Set<Integer> waiting = new HashSet<>(committedAtStop.keySet());
        try {
            // The fault itself: stopped for 1.5 partition leases, so its leases run out meanwhile.
            Thread.sleep(lockTtlMillis * 3);
            // A takeover comes within a lease TTL and an ownership round of the expiry; ten lease TTLs
            // leave room for a loaded machine, and a partition still not taken then is reported.
            long deadline = stoppedAt + TimeUnit.MILLISECONDS.toNanos(lockTtlMillis * 2 * 10);
            while (!waiting.isEmpty() && System.nanoTime() - deadline < 0) {
                try (UnifiedJedis j = queue.get()) {
                    waiting.removeIf(p -> takenAndMovedOn(j, p, pid, committedAtStop.get(p)));
                } catch (RuntimeException e) {
                    // Redis busy: look again.
                }
                if (!waiting.isEmpty()) {
                    Thread.sleep(100);
                }
            }
        } finally {
            signal(pid, "CONT");
        }
        takeoverMillis.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - stoppedAt));
        heldAtEachStop.add(committedAtStop.size());
        stopped.add(pid);
        freezes++;
        held += committedAtStop.size();
        takenOver += committedAtStop.size() - waiting.size();
    }

    int freezes() {
        return freezes;
    }

    /** Judges the freezes from the ledger: refused effects and lost-lease outcomes by process. */
    Figures judge(Jedis ledger) {
        long resumed = 0;
        long others = 0;
        for (Map.Entry<String, String> e : ledger.hgetAll(ChaosWorkerMain.STALE_BY).entrySet()) {
            if (stopped.contains(Long.parseLong(e.getKey()))) {
                resumed += Long.parseLong(e.getValue());
            } else {
                others += Long.parseLong(e.getValue());
            }
        }
        long leaseLost = 0;
        for (String member : ledger.smembers(ChaosWorkerMain.LEASE_LOST)) {
            if (stopped.contains(Long.parseLong(member.substring(0, member.indexOf('|'))))) {
                leaseLost++;
            }
        }
        return new Figures(freezes, List.copyOf(heldAtEachStop), held, takenOver, List.copyOf(takeoverMillis), resumed,
                others, leaseLost);
    }

    private static String ownerPrefix(long pid) {
        return "workflow-worker-" + pid + "-";
    }

    private Process owner(UnifiedJedis j, List<Process> workers, int partition) {
        Map<Long, Integer> counts = new HashMap<>();
        String first = j.get(partitionKey.apply(partition) + ":lease");
        for (Process w : workers) {
            if (first != null && first.startsWith(ownerPrefix(w.pid()))) {
                return w;
            }
            counts.put(w.pid(), heldBy(j, w.pid()).size());
        }
        return workers.stream().max((a, b) -> Integer.compare(counts.get(a.pid()), counts.get(b.pid())))
                .orElseThrow();
    }

    /** {@return the partitions whose lease names {@code pid}, each with its committed position (null: none yet)} */
    private Map<Integer, String> heldBy(UnifiedJedis j, long pid) {
        Map<Integer, String> out = new HashMap<>();
        for (int p = 0; p < partitions; p++) {
            String lease = j.get(partitionKey.apply(p) + ":lease");
            if (lease != null && lease.startsWith(ownerPrefix(pid))) {
                out.put(p, j.hget(partitionKey.apply(p) + ":log", "c"));
            }
        }
        return out;
    }

    private boolean takenAndMovedOn(UnifiedJedis j, int p, long pid, String committedAtStop) {
        String lease = j.get(partitionKey.apply(p) + ":lease");
        return lease != null && !lease.startsWith(ownerPrefix(pid))
                && !Objects.equals(committedAtStop, j.hget(partitionKey.apply(p) + ":log", "c"));
    }

    /** Sends a signal to a worker JVM ({@code STOP}, {@code CONT}) and waits for {@code kill} to return. */
    static void signal(long pid, String signal) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).inheritIO().start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IllegalStateException("kill -" + signal + " " + pid + " failed");
        }
    }
}
