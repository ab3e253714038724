package dev.workflowworker.redis.chaos;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.ScheduleInfo;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.redis.PartitionRouting;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.TestKeys;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.resps.StreamEntry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The occurrence chaos run (issue K): exactly once per occurrence through kills and a Redis
 * restart, judged from the ledger the handlers write ({@link OccurrenceWorkerMain}). Worker JVMs on
 * a partitioned stream; a schedule {@code tick} firing every second (default misfire policy) and a
 * schedule {@code tick-once} firing every second with FIRE_ONCE and a short misfire threshold,
 * both ending at a fixed instant and living in the same partition; delayed events published with
 * due times spread over the run, some cancelled and some rescheduled (some of each racing the
 * move). The JVM owning the schedules' partition is SIGKILLed {@code kills} times (and replaced),
 * Redis (AOF, appendfsync always) is SIGKILLed and restarted. On a cluster (3 masters with a
 * replica each, every write waiting for {@code waitReplicas} replicas) the Redis fault is instead
 * a SIGKILL of the master serving the schedules' partition, which half the delayed events' executions
 * share: its replica takes over, the old master comes back as the new one's replica.
 * {@link OccurrenceReport} holds the checks.
 */
final class OccurrenceChaosRun {

    static final String TICK = "tick";
    static final String TICK_ONCE = "tick-once";
    private static final long SECOND = 1000;

    /**
     * What to do.
     *
     * @param windowSeconds    how long the schedules fire (their end is this far after their creation)
     * @param delayedPerSecond delayed events published per second, during the window less its last 9 s
     * @param executions       execution ids the delayed events spread over
     * @param workers          worker processes
     * @param kills            SIGKILLs of the schedules' owner
     * @param redisRestarts    SIGKILLs and restarts of Redis
     * @param partitions       partitions of the stream
     * @param leaseTtlMillis   the partition lease's TTL
     * @param onceThresholdMs  tick-once's misfire threshold: shorter than a takeover, so missed occurrences coalesce
     * @param cluster          on a local Redis Cluster: {@code redisRestarts} are then master kills with failover
     * @param waitReplicas     replicas every write of the library waits for (Redis WAIT); 0 for none
     */
    record Settings(int windowSeconds, double delayedPerSecond, int executions, int workers, int kills,
                    int redisRestarts, int partitions, long leaseTtlMillis, long onceThresholdMs, boolean cluster,
                    int waitReplicas) {

        Settings(int windowSeconds, double delayedPerSecond, int executions, int workers, int kills,
                 int redisRestarts, int partitions, long leaseTtlMillis, long onceThresholdMs) {
            this(windowSeconds, delayedPerSecond, executions, workers, kills, redisRestarts, partitions, leaseTtlMillis,
                    onceThresholdMs, false, 0);
        }

        /** These settings on a 3-master cluster with a replica each, every write waiting for {@code replicas}. */
        Settings onCluster(int replicas) {
            return new Settings(windowSeconds, delayedPerSecond, executions, workers, kills, redisRestarts, partitions,
                    leaseTtlMillis, onceThresholdMs, true, replicas);
        }
    }

    /** What the orchestrator asked of the delayed events and what the API answered. */
    enum Answer { NONE, TRUE, FALSE, UNKNOWN }

    /** One delayed event: its plan and the answers. */
    static final class Delayed {
        final String id;
        final String execution;
        final long due;
        volatile Answer published = Answer.NONE;
        volatile Answer cancelled = Answer.NONE;
        volatile Answer rescheduled = Answer.NONE;
        volatile long newDue = -1;

        Delayed(String id, String execution, long due) {
            this.id = id;
            this.execution = execution;
            this.due = due;
        }

        /** Expected to complete exactly once: published, and no cancel that answered true or whose answer was lost. */
        boolean mustRun() {
            return published == Answer.TRUE && cancelled != Answer.TRUE && cancelled != Answer.UNKNOWN;
        }

        /** The earliest it may start, from the answers: a reschedule that answered true moved it. */
        long earliestStart() {
            return switch (rescheduled) {
                case TRUE -> newDue;
                case UNKNOWN -> Math.min(due, newDue);
                default -> due;
            };
        }
    }

    private final Settings s;
    private final Path dir;
    private final List<Process> workers = new CopyOnWriteArrayList<>();
    private final Set<String> killed = ConcurrentHashMap.newKeySet();
    private final List<Delayed> delayed = new CopyOnWriteArrayList<>();
    /** Due times taken per execution: distinct, so the order within an execution is defined by them. */
    private final Map<String, Set<Long>> dues = new ConcurrentHashMap<>();
    private final Random random = new Random(7);
    private final List<String> executionIds = new ArrayList<>();
    private String uri;
    private SpawnedRedisCluster cluster;

    OccurrenceChaosRun(Settings settings, String name) {
        this.s = settings;
        this.dir = Path.of("target", "occurrence-chaos", name);
    }

    private Process startWorker() throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx192m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"), OccurrenceWorkerMain.class.getName(), uri,
                dir.toString(), Integer.toString(s.partitions()), Long.toString(s.leaseTtlMillis()),
                Integer.toString(s.waitReplicas()))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("workers.log").toFile()))
                .start();
        workers.add(p);
        return p;
    }

    OccurrenceReport run() throws Exception {
        long t0 = System.nanoTime();
        deleteDir(dir);
        Files.createDirectories(dir);
        ChaosRedis redis = null;
        try {
            if (s.cluster()) {
                cluster = SpawnedRedisCluster.start(3, 1);
                uri = cluster.uri();
            } else {
                redis = new ChaosRedis();
                uri = redis.uri();
            }
            RedisOptions.Builder ob = RedisOptions.builder().uri(uri).partitions(s.partitions())
                    .socketTimeout(Duration.ofSeconds(2));
            if (s.waitReplicas() > 0) {
                // The answers the run judges by (a publish, a cancel) mean replicated, as the workers' writes do.
                ob.waitForReplicas(s.waitReplicas(), Duration.ofSeconds(1));
            }
            RedisOptions options = ob.build();
            for (int i = 0; i < s.workers(); i++) {
                startWorker();
            }
            awaitTrue(Duration.ofSeconds(90), "worker processes ready", () -> ledger().ready.size() >= s.workers());
            try (RedisEventTransport t = RedisEventTransport.create(options)) {
                DelayedEvents delayedApi = t.delayed().orElseThrow();
                Schedules schedules = t.schedules().orElseThrow();
                int home = PartitionRouting.partitionOf("ticker", s.partitions());
                String onceExecution = sameHome("ticker-once-", home);
                for (int x = 0; x < s.executions(); x++) {
                    // On a cluster half of them live with the schedules, on the master the run kills.
                    executionIds.add(s.cluster() && x % 2 == 0 ? sameHome("dx-" + x + "-", home) : "dx-" + x);
                }
                long end = System.currentTimeMillis() + s.windowSeconds() * SECOND;
                long tickPutSent = System.currentTimeMillis();
                ScheduleInfo tick = schedules.put(Schedule.every(TICK, Duration.ofSeconds(1))
                        .eventType(OccurrenceWorkerMain.TICK).executionId("ticker").end(Instant.ofEpochMilli(end)).build());
                long tickPutAnswered = System.currentTimeMillis();
                ScheduleInfo once = schedules.put(Schedule.every(TICK_ONCE, Duration.ofSeconds(1))
                        .eventType(OccurrenceWorkerMain.TICK).executionId(onceExecution).end(Instant.ofEpochMilli(end))
                        .misfire(Schedule.Misfire.FIRE_ONCE).misfireThreshold(Duration.ofMillis(s.onceThresholdMs()))
                        .build());
                long start = System.currentTimeMillis();
                // The faults are placed in what is left of the window once the schedules exist: at load
                // creating them took seconds, which would push the last fault past the last occurrence.
                long span = Math.max(0, end - start);

                ScheduledExecutorService actions = Executors.newScheduledThreadPool(4);
                Thread producer = new Thread(() -> produce(delayedApi, actions, end), "occurrence-producer");
                Throwable[] producerFailure = {null};
                producer.setUncaughtExceptionHandler((th, ex) -> producerFailure[0] = ex);
                producer.start();

                List<String> plan = new ArrayList<>();
                List<Long> at = new ArrayList<>();
                // Kills at a quarter and at 70 % of the window, Redis in between (and after, if more).
                for (int k = 0; k < s.kills(); k++) {
                    plan.add("kill");
                    at.add(start + (long) (span * (0.25 + 0.45 * k / Math.max(1, s.kills() - 1))));
                }
                for (int r = 0; r < s.redisRestarts(); r++) {
                    plan.add("redis");
                    at.add(start + (long) (span * (0.45 + 0.1 * r)));
                }
                List<Integer> order = new ArrayList<>();
                for (int i = 0; i < plan.size(); i++) {
                    order.add(i);
                }
                order.sort(Comparator.comparing(at::get));
                List<Long> takeovers = new CopyOnWriteArrayList<>();
                List<Thread> watchers = new ArrayList<>();
                List<long[]> faults = new ArrayList<>();
                for (int i : order) {
                    long wait = at.get(i) - System.currentTimeMillis();
                    if (wait > 0) {
                        // The faults' place in the run's timeline: the schedule under test, not a wait for a condition.
                        Thread.sleep(wait);
                    }
                    if (plan.get(i).equals("kill")) {
                        String pid = ownerOf(home);
                        Process victim = workers.stream().filter(p -> Long.toString(p.pid()).equals(pid)).findFirst()
                                .orElseThrow(() -> new AssertionError("the owner " + pid + " is not a worker of this run"));
                        victim.destroyForcibly();
                        victim.waitFor(10, TimeUnit.SECONDS);
                        long killedAt = System.currentTimeMillis();
                        killed.add(pid);
                        workers.remove(victim);
                        faults.add(new long[] {killedAt, 0});
                        startWorker();
                        Thread w = new Thread(() -> takeovers.add(awaitNewOwner(home, pid, killedAt)));
                        w.start();
                        watchers.add(w);
                    } else if (cluster != null) {
                        long down = System.currentTimeMillis();
                        var master = cluster.masterOf(TestKeys.partitionStream(options, home));
                        cluster.killMasterAndAwaitFailover(master, Duration.ofSeconds(60));
                        master.start();
                        cluster.awaitHealthy(Duration.ofSeconds(60));
                        faults.add(new long[] {down, 1});
                    } else {
                        long down = System.currentTimeMillis();
                        redis.kill();
                        // The outage's length: the fault injected, not a wait for a condition.
                        Thread.sleep(1000);
                        redis.start();
                        faults.add(new long[] {down, 1});
                    }
                }
                producer.join();
                if (producerFailure[0] != null) {
                    throw new AssertionError("the producer failed", producerFailure[0]);
                }
                actions.shutdown();
                if (!actions.awaitTermination(60, TimeUnit.SECONDS)) {
                    throw new AssertionError("cancels and reschedules did not finish");
                }
                for (Thread w : watchers) {
                    w.join(TimeUnit.SECONDS.toMillis(60));
                }
                List<Long> tickOccurrences = occurrences(tick, end);
                List<Long> onceOccurrences = occurrences(once, end);
                String[] state = {""};
                try {
                    awaitTrue(Duration.ofSeconds(60 + s.windowSeconds()), () -> "everything expected completed; " + state[0],
                            () -> {
                                OccurrenceLedger l = ledger();
                                long ticks = tickOccurrences.stream().filter(x -> l.completed(TICK + ":" + x, killed)).count();
                                long delayedDone = delayed.stream().filter(d -> d.mustRun() && l.completed(d.id, killed)).count();
                                long delayedDue = delayed.stream().filter(Delayed::mustRun).count();
                                boolean onceLast = l.completed(TICK_ONCE + ":" + onceOccurrences.get(onceOccurrences.size() - 1),
                                        killed);
                                long waiting = delayedApi.waiting();
                                long unsettled = unsettled(options);
                                state[0] = "tick " + ticks + "/" + tickOccurrences.size() + ", delayed " + delayedDone + "/"
                                        + delayedDue + ", tick-once last " + onceLast + ", delayed waiting " + waiting
                                        + ", unsettled " + unsettled;
                                return ticks == tickOccurrences.size() && delayedDone == delayedDue && onceLast
                                        && waiting == 0 && unsettled == 0;
                            });
                } catch (AssertionError incomplete) {
                    // Reported below: the checks name what is missing.
                    System.out.println(incomplete.getMessage());
                }
                // A late duplicate would show in this time: an owner's look is at most a second apart.
                Thread.sleep(3000);
                long unsettled = unsettled(options);
                stopWorkers();
                ScheduleInfo tickInfo = schedules.get(TICK).orElseThrow();
                ScheduleInfo onceInfo = schedules.get(TICK_ONCE).orElseThrow();
                OccurrenceLedger l = ledger();
                return new OccurrenceReport(s, l, killed, tickOccurrences, onceOccurrences, delayed, tickInfo, onceInfo,
                        takeovers, faults, tickPutSent, tickPutAnswered, unsettled, (System.nanoTime() - t0) / 1_000_000_000L);
            }
        } finally {
            for (Process p : workers) {
                p.destroyForcibly();
            }
            if (redis != null) {
                redis.close();
            }
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    /** The scheduled instants from the schedule's first (as its creation answered) up to its end, a second apart. */
    private static List<Long> occurrences(ScheduleInfo created, long end) {
        List<Long> out = new ArrayList<>();
        for (long x = created.nextFire().toEpochMilli(); x <= end; x += SECOND) {
            out.add(x);
        }
        return out;
    }

    private String sameHome(String prefix, int home) {
        for (int i = 0; ; i++) {
            if (PartitionRouting.partitionOf(prefix + i, s.partitions()) == home) {
                return prefix + i;
            }
        }
    }

    /**
     * Publishes delayed events at the set rate with due times 2 to 8 s ahead, distinct per
     * execution, and plans their cancels and reschedules: early ones, and ones at the due time,
     * racing the owner's move.
     */
    private void produce(DelayedEvents api, ScheduledExecutorService actions, long end) {
        long stopAt = end - 9 * SECOND;
        long periodNanos = (long) (1_000_000_000L / s.delayedPerSecond());
        long next = System.nanoTime();
        for (int i = 0; System.currentTimeMillis() < stopAt; i++) {
            long now = System.currentTimeMillis();
            long offset = 2000 + random.nextInt(6000);
            String execution = executionIds.get(i % s.executions());
            Delayed d = new Delayed("d-" + i, execution, uniqueDue(execution, now + offset));
            delayed.add(d);
            WorkflowEvent e = WorkflowEvent.builder(OccurrenceWorkerMain.DELAYED).eventId(d.id).executionId(execution)
                    .payload(Map.of("i", i)).build();
            d.published = publish(api, e, d.due);
            if (d.published == Answer.TRUE) {
                plan(api, actions, d, i, now);
            }
            next += periodNanos;
            long sleep = next - System.nanoTime();
            if (sleep > 0) {
                sleepQuietly(TimeUnit.NANOSECONDS.toMillis(sleep));
            }
        }
    }

    /**
     * A publish is safe to repeat while the event waits (the same id again changes nothing), so
     * it is retried through an outage, but not once the event may have been moved: then its
     * answer is unknown.
     */
    private static Answer publish(DelayedEvents api, WorkflowEvent e, long due) {
        while (System.currentTimeMillis() < due - 500) {
            try {
                api.publishAt(e, Instant.ofEpochMilli(due));
                return Answer.TRUE;
            } catch (RuntimeException ex) {
                sleepQuietly(50);
            }
        }
        return Answer.UNKNOWN;
    }

    private void plan(DelayedEvents api, ScheduledExecutorService actions, Delayed d, int i, long now) {
        if (i % 6 == 1) {
            actions.schedule(() -> cancel(api, d), 200 + random.nextInt((int) (d.due - now - 1200)), TimeUnit.MILLISECONDS);
        } else if (i % 6 == 3) {
            actions.schedule(() -> cancel(api, d), d.due - now, TimeUnit.MILLISECONDS);
        }
        if (i % 10 == 5) {
            long to = uniqueDue(d.execution, d.due + 1000 + random.nextInt(2000));
            actions.schedule(() -> reschedule(api, d, to), 500, TimeUnit.MILLISECONDS);
        } else if (i % 10 == 7) {
            long to = uniqueDue(d.execution, d.due + 1500);
            actions.schedule(() -> reschedule(api, d, to), d.due - now, TimeUnit.MILLISECONDS);
        } else if (i % 10 == 9) {
            long to = uniqueDue(d.execution, d.due - 1000);
            actions.schedule(() -> reschedule(api, d, to), 300, TimeUnit.MILLISECONDS);
        }
    }

    /** Not retried: a cancel repeated after a lost reply would answer false for one that did cancel. */
    private static void cancel(DelayedEvents api, Delayed d) {
        try {
            d.cancelled = api.cancel(d.id) ? Answer.TRUE : Answer.FALSE;
        } catch (RuntimeException e) {
            d.cancelled = Answer.UNKNOWN;
        }
    }

    private static void reschedule(DelayedEvents api, Delayed d, long to) {
        d.newDue = to;
        try {
            d.rescheduled = api.reschedule(d.id, Instant.ofEpochMilli(to)) ? Answer.TRUE : Answer.FALSE;
        } catch (RuntimeException e) {
            d.rescheduled = Answer.UNKNOWN;
        }
    }

    private long uniqueDue(String execution, long due) {
        Set<Long> taken = dues.computeIfAbsent(execution, k -> ConcurrentHashMap.newKeySet());
        while (!taken.add(due)) {
            due++;
        }
        return due;
    }

    /** The pid in the lease of partition {@code p}, waiting (bounded) while it has none. */
    private String ownerOf(int p) {
        String[] pid = {null};
        awaitTrue(Duration.ofSeconds(30), "an owner of partition " + p, () -> {
            try (UnifiedJedis j = redis()) {
                pid[0] = pidOf(j.get(lease(p)));
                return pid[0] != null;
            }
        });
        return pid[0];
    }

    private static String pidOf(String lease) {
        String prefix = "workflow-worker-";
        if (lease == null || !lease.startsWith(prefix)) {
            return null;
        }
        int dash = lease.indexOf('-', prefix.length());
        return lease.substring(prefix.length(), dash < 0 ? lease.length() : dash);
    }

    private String lease(int p) {
        return TestKeys.partitionStream(RedisOptions.builder().uri(uri).partitions(s.partitions()).build(), p) + ":lease";
    }

    /** Milliseconds from the kill until another process holds the partition's lease; -1 if none did within 60 s. */
    private long awaitNewOwner(int p, String killedPid, long killedAt) {
        long deadline = System.currentTimeMillis() + 60_000;
        UnifiedJedis j = null;
        try {
            while (System.currentTimeMillis() < deadline) {
                try {
                    // One client for the watch: a cluster client learns the topology when made.
                    j = j == null ? redis() : j;
                    String owner = pidOf(j.get(lease(p)));
                    if (owner != null && !owner.equals(killedPid)) {
                        return System.currentTimeMillis() - killedAt;
                    }
                } catch (RuntimeException e) {
                    // Redis restarting or failing over: look again with a new client.
                    closeQuietly(j);
                    j = null;
                }
                sleepQuietly(20);
            }
            return -1;
        } finally {
            closeQuietly(j);
        }
    }

    private static void closeQuietly(UnifiedJedis j) {
        try {
            if (j != null) {
                j.close();
            }
        } catch (RuntimeException e) {
            // already broken
        }
    }

    /** Entries of the partitions above the committed position and not settled: read from the streams, not the library's counters. */
    private long unsettled(RedisOptions options) {
        long n = 0;
        try (UnifiedJedis j = redis()) {
            for (int p = 0; p < s.partitions(); p++) {
                String stream = TestKeys.partitionStream(options, p);
                if (!j.exists(stream)) {
                    continue;
                }
                String c = j.hget(stream + ":log", "c");
                Set<String> settled = j.smembers(stream + ":settled");
                StreamEntryID from = c == null ? null : new StreamEntryID(c);
                for (StreamEntry e : j.xrange(stream, from, (StreamEntryID) null)) {
                    if (!e.getID().equals(from) && !settled.contains(e.getID().toString())) {
                        n++;
                    }
                }
            }
        }
        return n;
    }

    private void stopWorkers() throws InterruptedException {
        for (Process p : workers) {
            try {
                p.getOutputStream().close();
            } catch (IOException e) {
                // already gone
            }
        }
        for (Process p : workers) {
            if (!p.waitFor(20, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    private OccurrenceLedger ledger() {
        OccurrenceLedger l;
        try {
            l = OccurrenceLedger.read(dir);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        l.landedCommits.addAll(landedCommits());
        return l;
    }

    /**
     * The event ids in the partitions' {@code recent} lists: each pushed by the commit of its own
     * success (a duplicate, a dead letter or a hold pushes none). Read after the ledger, so an id
     * committed in between is at worst counted landed with its success record still to come.
     */
    private Set<String> landedCommits() {
        Set<String> ids = new java.util.HashSet<>();
        RedisOptions options = RedisOptions.builder().uri(uri).partitions(s.partitions()).build();
        try (UnifiedJedis j = redis()) {
            for (int p = 0; p < s.partitions(); p++) {
                for (String commit : j.lrange(TestKeys.partitionStream(options, p) + ":recent", 0, -1)) {
                    unpackIds(commit, ids);
                }
            }
        }
        return ids;
    }

    /**
     * One commit's ids as partition_commit.lua packs them: "count|" then each id as "length:id",
     * the length in UTF-8 bytes; this run's ids are ASCII, so bytes are characters.
     */
    static void unpackIds(String commit, Set<String> into) {
        int at = commit.indexOf('|') + 1;
        while (at < commit.length()) {
            int colon = commit.indexOf(':', at);
            int length = Integer.parseInt(commit.substring(at, colon));
            into.add(commit.substring(colon + 1, colon + 1 + length));
            at = colon + 1 + length;
        }
    }

    /** A client of the run's Redis, one server or the cluster; close it after use. */
    private UnifiedJedis redis() {
        if (cluster != null) {
            return cluster.client();
        }
        java.net.URI u = java.net.URI.create(uri);
        return redis.clients.jedis.RedisClient.builder().hostAndPort(u.getHost(), u.getPort())
                .clientConfig(redis.clients.jedis.DefaultJedisClientConfig.builder().resp2().autoNegotiateProtocol(false)
                        .timeoutMillis(2000).build()).build();
    }

    private static void deleteDir(Path d) throws IOException {
        if (!Files.exists(d)) {
            return;
        }
        try (var files = Files.walk(d)) {
            for (Path f : files.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(f);
            }
        }
    }

    private static void awaitTrue(Duration timeout, String what, java.util.function.BooleanSupplier condition) {
        awaitTrue(timeout, () -> what, condition);
    }

    private static void awaitTrue(Duration timeout, java.util.function.Supplier<String> what,
                                  java.util.function.BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException e) {
                // Redis briefly unavailable: look again.
            }
            sleepQuietly(250);
        }
        throw new AssertionError("timed out after " + timeout.toSeconds() + " s waiting for: " + what.get());
    }

    private static void sleepQuietly(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
