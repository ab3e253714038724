package dev.workflowworker.redis.chaos;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.util.JedisClusterCRC16;
import dev.workflowworker.redis.TestKeys;
import redis.clients.jedis.resps.StreamConsumerInfo;
import redis.clients.jedis.resps.StreamEntry;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The chaos run: worker JVMs, a producer and a persistent redis-server; workers are killed with
 * SIGKILL and restarted, Redis is killed and restarted and paused, some handlers outlive the lock
 * TTL, 1 % of events are poison. Partitioned, delayed events and a schedule run among the events
 * ({@link ChaosTime}). Afterwards it checks the promises against the ledger in Redis.
 */
final class ChaosRun {

    static final String STREAM = "workflow:events:global";

    /** What to do. */
    record Settings(int events, int executions, int workers, int kills, int redisRestarts, long pauseMillis,
                    int publishRate, long lockTtlMillis, long claimIdleMillis, int partitions,
                    boolean cluster, int waitReplicas, int reshards, int freezes, int concurrency) {

        /** The handler slots of each worker (two per process) unless {@link #withConcurrency} says otherwise. */
        static final int CONCURRENCY = 8;

        Settings(int events, int executions, int workers, int kills, int redisRestarts, long pauseMillis,
                 int publishRate, long lockTtlMillis, long claimIdleMillis, int partitions) {
            this(events, executions, workers, kills, redisRestarts, pauseMillis, publishRate, lockTtlMillis,
                    claimIdleMillis, partitions, false, 0, 0, 0, CONCURRENCY);
        }

        /**
         * These settings with {@code slots} handler slots per worker: with 16 or more and few
         * execution ids, a worker's few-keys batches run as two cohorts that commit apart
         * (docs/ARCHITECTURE.md, "The engine", few keys), which 8 slots never form.
         */
        Settings withConcurrency(int slots) {
            return new Settings(events, executions, workers, kills, redisRestarts, pauseMillis, publishRate,
                    lockTtlMillis, claimIdleMillis, partitions, cluster, waitReplicas, reshards, freezes, slots);
        }

        /**
         * These settings, and {@code n} times a worker JVM stopped with SIGSTOP for three lock TTLs
         * (past its leases, so another process takes its partitions over and goes on), then
         * resumed with SIGCONT: a stale owner whose reads and writes must change nothing.
         */
        Settings withFreezes(int n) {
            return new Settings(events, executions, workers, kills, redisRestarts, pauseMillis, publishRate,
                    lockTtlMillis, claimIdleMillis, partitions, cluster, waitReplicas, reshards, n, concurrency);
        }

        /**
         * On a local Redis Cluster of 3 masters with a replica each; {@code masterKills} masters
         * are killed with SIGKILL (a replica takes over, the old master rejoins as its replica),
         * {@code reshards} times the slots of two partitions move to another master.
         */
        static Settings onCluster(int events, int executions, int workers, int kills, int masterKills, long pauseMillis,
                                  int publishRate, long lockTtlMillis, int partitions, int waitReplicas, int reshards) {
            return new Settings(events, executions, workers, kills, masterKills, pauseMillis, publishRate, lockTtlMillis,
                    lockTtlMillis * 2, partitions, true, waitReplicas, reshards, 0, CONCURRENCY);
        }
    }

    /** What happened. */
    record Report(Settings settings, int published, int good, int poison, int kills, int redisRestarts,
                  int pauses, long invocations, long completions, long duplicateCompletions, long lost,
                  long unrecordedCompletions, long staleEffects, long deadLetters, long poisonDeadLettered, long poisonDeadLetteredAgain,
                  long goodDeadLettered, List<Long> recoveryMillis, boolean healthyAtEnd, String finalHealth, long seconds,
                  long orderViolations, long ambiguousPublishes, long publishedAgain, long finalWaitMillis,
                  ChaosFreezes.Figures freezes, ChaosTime.Figures time) {

        boolean promisesHold() {
            // Stopped past its leases, a JVM's handler that passed its last cancellation check just before
            // SIGSTOP writes when SIGCONT resumes it: the downstream's fence refuses that write, and the
            // lease check its outcome. A refused write by any other process would be two live holders.
            boolean fenced = settings.freezes() == 0 ? staleEffects == 0 : freezes.hold();
            return lost == 0 && duplicateCompletions == 0 && fenced && goodDeadLettered == 0
                    && poisonDeadLettered == poison && poisonDeadLetteredAgainWithinSends() && healthyAtEnd
                    && (settings.partitions() == 0 || orderViolations == 0) && time.hold();
        }

        /**
         * A poison event is dead-lettered once per copy in the stream (recognising a duplicate looks
         * at completions only, so that a replayed dead letter runs), and a copy comes only from a
         * publish sent again: by the producer after an error, or by the library itself after a
         * broken connection (the producer's transport reports those, {@code StreamStats.publishedAgain}).
         */
        boolean poisonDeadLetteredAgainWithinSends() {
            return poisonDeadLetteredAgain <= ambiguousPublishes + publishedAgain;
        }

        String table() {
            List<Long> r = new ArrayList<>(recoveryMillis);
            Collections.sort(r);
            String p50 = r.isEmpty() ? "-" : r.get((r.size() - 1) / 2) + " ms";
            String max = r.isEmpty() ? "-" : r.get(r.size() - 1) + " ms";
            StringBuilder sb = new StringBuilder();
            row(sb, "events published (good + poison)", published + " (" + good + " + " + poison + ")");
            row(sb, "mode", (settings.partitions() == 0 ? "one shared stream"
                    : settings.partitions() + " partitions (ordered)") + (settings.cluster() ? ", cluster" : ""));
            if (settings.cluster()) {
                row(sb, "Redis Cluster", "3 masters + 3 replicas");
                row(sb, "waitForReplicas", settings.waitReplicas() == 0 ? "off" : Integer.toString(settings.waitReplicas()));
                row(sb, "slot moves (2 partitions each)", Integer.toString(settings.reshards()));
            }
            row(sb, "execution ids", Integer.toString(settings.executions()));
            row(sb, "worker processes", Integer.toString(settings.workers()));
            row(sb, "handler slots per worker (2 per process)", Integer.toString(settings.concurrency()));
            row(sb, "worker kills (SIGKILL) + restarts", Integer.toString(kills));
            row(sb, settings.cluster() ? "master kills (SIGKILL, failover)" : "Redis restarts (SIGKILL, AOF always)",
                    Integer.toString(redisRestarts));
            row(sb, "Redis CLIENT PAUSE", pauses + " x " + settings.pauseMillis() + " ms");
            if (settings.freezes() > 0) {
                row(sb, "worker freezes (SIGSTOP past its leases, SIGCONT)", freezes.freezes() + " x at least "
                        + settings.lockTtlMillis() * 3 + " ms");
                row(sb, "stopped until taken over and moved on", freezes.takeoverMillis() + " ms");
                row(sb, "partitions held / taken over and moved on", freezes.partitionsHeld() + " / "
                        + freezes.partitionsTakenOver() + " (held at each stop " + freezes.heldAtEachStop() + ")");
            }
            row(sb, "handler invocations", Long.toString(invocations));
            row(sb, "completions (acked as success)", completions + " recorded + " + unrecordedCompletions
                    + " killed before recording");
            row(sb, "duplicate invocations (allowed)",
                    Long.toString(invocations - completions - unrecordedCompletions - poisonInvocationsEstimate()));
            row(sb, "duplicate completions", Long.toString(duplicateCompletions));
            row(sb, "publishes retried after an error", ambiguousPublishes
                    + (settings.partitions() == 0 ? "" : " (each may have written the event twice)"));
            row(sb, "events the library sent again (broken connection)", Long.toString(publishedAgain));
            row(sb, "lost good events", Long.toString(lost));
            row(sb, "overlaps (stale fencing tokens)", Long.toString(staleEffects));
            if (settings.freezes() > 0) {
                row(sb, "stale: refused writes of resumed / others", freezes.refusedEffectsOfResumed() + " / "
                        + freezes.staleEffectsOfOthers());
                row(sb, "resumed JVMs' outcomes refused: lease lost", Long.toString(freezes.leaseLostOfResumed()));
            }
            row(sb, "order violations" + (settings.partitions() == 0 ? " (not promised)" : ""),
                    Long.toString(orderViolations));
            if (settings.partitions() > 0) {
                row(sb, "delayed events published (+ answer unknown)", time.delayedPublished() + " (+ "
                        + time.delayedUnknown() + ")");
                row(sb, "delayed: lost / order violations", time.delayedLost() + " / " + time.delayedOrderViolations()
                        + " (of " + time.delayedOrderJudged() + " pairs judged)");
                row(sb, "schedule occurrences (every 1 s)", Integer.toString(time.tickExpected()));
                row(sb, "schedule: lost / extra", time.tickLost() + " / " + time.tickExtra());
                row(sb, "schedule: coalesced (over 1 min late, FIRE_ONCE)", Long.toString(time.tickCoalesced()));
            }
            row(sb, "dead letters (poison / good)", deadLetters + " (" + poisonDeadLettered + " / " + goodDeadLettered + ")");
            // Recognising a duplicate publish looks at completions only, so that a replayed dead
            // letter runs: a retried publish of a poison event is dead-lettered once per copy.
            row(sb, "poison dead-lettered again (a copy; at most the retries + sent again)",
                    Long.toString(poisonDeadLetteredAgain));
            row(sb, "recovery after kill p50 / max", p50 + " / " + max);
            row(sb, "recovery after each kill", r.toString());
            row(sb, "health at end", healthyAtEnd ? "healthy" : "NOT healthy");
            row(sb, "from the last publish to all completed", finalWaitMillis + " ms");
            row(sb, "wall time", seconds + " s");
            return sb.toString();
        }

        private long poisonInvocationsEstimate() {
            return poisonDeadLettered;
        }

        private static void row(StringBuilder sb, String k, String v) {
            sb.append(String.format("| %-38s | %-22s |%n", k, v));
        }
    }

    private final Settings s;
    /** The stale-owner fault; null unless the settings ask for freezes. */
    private ChaosFreezes freezer;
    private final List<Process> workers = new CopyOnWriteArrayList<>();
    private final Random random = new Random(42);
    /** Publishes that failed and were retried: the failed one may have been written all the same. */
    private final AtomicInteger publishRetries = new AtomicInteger();
    /** Events the producer's transport sent again itself after a broken connection, as its stats report them. */
    private volatile long publishedAgain = -1;
    /** From the producer's end to everything completed, as the run's last wait saw it. */
    private long finalWaitMillis = -1;
    /** Delayed events and a schedule under the same faults; partitioned only (the shared stream has neither). */
    private final ChaosTime time;

    ChaosRun(Settings settings) {
        this.s = settings;
        this.time = settings.partitions() > 0 ? new ChaosTime(settings.executions(), settings.partitions()) : null;
    }

    private static boolean isPoison(int i) {
        return i % 100 == 37;
    }

    /** About 0.4 %; 997 is prime, so slow events spread over every execution id. */
    private static boolean isSlow(int i) {
        return i % 997 == 11 || i % 997 == 500;
    }

    /** Where the queue is (one server or a cluster), where the ledger is, and the options the library uses. */
    private String queueUri;
    private String ledgerUri;
    private RedisOptions queueOptions;
    private dev.workflowworker.redis.testsupport.SpawnedRedisCluster cluster;

    private Process startWorker(String uri) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx256m", "-XX:+UseSerialGC",
                "-Dorg.slf4j.simpleLogger.log.dev.workflowworker=info",
                // A line when cohorts form (at 1, 2, 3, 4, 5, 6, 8, ...: a few per run), counted by cohortLines.
                "-Dorg.slf4j.simpleLogger.log.dev.workflowworker.core.internal.Settler=debug",
                "-cp", System.getProperty("java.class.path"),
                ChaosWorkerMain.class.getName(), uri, Long.toString(s.lockTtlMillis()), Long.toString(s.claimIdleMillis()),
                Integer.toString(s.partitions()), ledgerUri, Integer.toString(s.waitReplicas()),
                Integer.toString(s.concurrency()))
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(Path.of("target", "chaos-workers.log").toFile()))
                .start();
        workers.add(p);
        return p;
    }

    Report run() throws Exception {
        long t0 = System.nanoTime();
        Files.createDirectories(Path.of("target"));
        Files.deleteIfExists(Path.of("target", "chaos-workers.log"));
        try (ChaosRedis redis = new ChaosRedis()) {
            ledgerUri = redis.uri();
            if (s.cluster()) {
                cluster = dev.workflowworker.redis.testsupport.SpawnedRedisCluster.start(3, 1);
                queueUri = cluster.uri();
            } else {
                queueUri = redis.uri();
            }
            queueOptions = RedisOptions.builder().uri(queueUri).partitions(s.partitions()).build();
            if (s.freezes() > 0) {
                freezer = new ChaosFreezes(s.lockTtlMillis(), s.partitions(), this::partitionKey, this::queue);
            }
            String uri = queueUri;
            for (int i = 0; i < s.workers(); i++) {
                startWorker(uri);
            }
            awaitTrue(Duration.ofSeconds(60), "worker processes ready", () -> {
                try (Jedis j = jedis(ledgerUri)) {
                    return j.scard(ChaosWorkerMain.READY) >= s.workers();
                }
            });

            int good = 0;
            int poison = 0;
            for (int i = 0; i < s.events(); i++) {
                if (isPoison(i)) {
                    poison++;
                } else {
                    good++;
                }
            }
            AtomicInteger published = new AtomicInteger();
            Throwable[] producerFailure = {null};
            Thread producer = new Thread(() -> produce(uri, published), "chaos-producer");
            producer.setUncaughtExceptionHandler((th, ex) -> producerFailure[0] = ex);
            producer.start();

            // Spread the faults over the publishing window.
            long window = Math.max(5_000, 1000L * s.events() / s.publishRate());
            int actions = s.kills() + s.redisRestarts() + s.reshards() + s.freezes() + (s.pauseMillis() > 0 ? 1 : 0);
            long step = window / (actions + 1);
            List<String> plan = new ArrayList<>();
            for (int k = 0; k < s.kills(); k++) {
                plan.add("kill");
            }
            for (int r = 0; r < s.redisRestarts(); r++) {
                plan.add(plan.size() / 2, "redis");
            }
            for (int r = 0; r < s.reshards(); r++) {
                plan.add(1 + plan.size() / 3, "reshard");
            }
            if (s.pauseMillis() > 0) {
                plan.add("pause");
            }
            for (int f = 0; f < s.freezes(); f++) {
                plan.add(Math.min(plan.size(), 1 + f), "freeze");
            }
            int kills = 0;
            int restarts = 0;
            int pauses = 0;
            List<Long> recovery = new CopyOnWriteArrayList<>();
            List<Thread> recoveryWatchers = new ArrayList<>();
            long faultsFrom = System.nanoTime();
            for (int k = 0; k < plan.size(); k++) {
                String action = plan.get(k);
                // The faults' places in the run are the schedule under test, not a wait for a condition;
                // counted from the start, so a long fault (a freeze, a failover) does not push the next
                // one out of the publishing window.
                long at = faultsFrom + TimeUnit.MILLISECONDS.toNanos(step * (k + 1));
                Thread.sleep(Math.max(0, TimeUnit.NANOSECONDS.toMillis(at - System.nanoTime())));
                switch (action) {
                    case "kill" -> {
                        Process victim = workers.get(random.nextInt(workers.size()));
                        long pid = victim.pid();
                        victim.destroyForcibly();
                        victim.waitFor(10, TimeUnit.SECONDS);
                        long killedAt = System.nanoTime();
                        workers.remove(victim);
                        startWorker(uri);
                        kills++;
                        Thread w = new Thread(() -> recovery.add(awaitNoPendingOf(uri, pid, killedAt)));
                        w.start();
                        recoveryWatchers.add(w);
                    }
                    case "redis" -> {
                        if (cluster != null) {
                            // The master serving partition 1; it comes back as its successor's replica.
                            var master = cluster.masterOf(TestKeys.partitionStream(queueOptions, 1));
                            cluster.killMasterAndAwaitFailover(master, Duration.ofSeconds(60));
                            master.start();
                            cluster.awaitHealthy(Duration.ofSeconds(60));
                        } else {
                            redis.kill();
                            // The outage's length: the fault injected, not a wait for a condition.
                            Thread.sleep(1000);
                            redis.start();
                        }
                        restarts++;
                    }
                    case "reshard" -> {
                        for (int p : new int[] {0, s.partitions() / 2}) {
                            int slot = JedisClusterCRC16.getSlot(
                                    TestKeys.partitionStream(queueOptions, p));
                            var from = cluster.masterOfSlot(slot);
                            var to = cluster.masters().stream().filter(m -> m != from).findFirst().orElseThrow();
                            cluster.moveSlot(slot, to);
                        }
                    }
                    case "freeze" -> freezer.freeze(workers, freezer.freezes() + 1);
                    case "pause" -> {
                        if (cluster != null) {
                            try (Jedis j = cluster.masterOf(TestKeys.partitionStream(queueOptions, 2)).jedis()) {
                                j.clientPause(s.pauseMillis());
                            }
                        } else {
                            redis.pause(s.pauseMillis());
                        }
                        pauses++;
                    }
                    default -> throw new IllegalStateException(action);
                }
            }
            producer.join();
            if (published.get() < s.events()) {
                throw new AssertionError("the producer stopped after " + published.get() + " of " + s.events()
                        + " events", producerFailure[0]);
            }
            final int goodCount = good;
            final int poisonCount = poison;
            long producerDone = System.nanoTime();
            String[] state = {""};
            if (s.cluster() && s.waitReplicas() == 0) {
                // Without waiting for replicas a failover may lose writes for good: wait until
                // nothing is pending or retried any more, then report what is missing.
                awaitTrue(Duration.ofSeconds(180), () -> "nothing pending; " + state[0], () -> {
                    try (Jedis l = jedis(ledgerUri); UnifiedJedis j = queue()) {
                        long pending = pendingTotal(j);
                        long retries = retriesWaiting(j);
                        state[0] = "completed " + (goodCount - missing(l, j)) + "/" + goodCount + ", pending " + pending
                                + ", retries waiting " + retries;
                        return pending == 0 && retries == 0;
                    }
                });
                try {
                    awaitTrue(Duration.ofSeconds(30), () -> "every good event completed", () -> {
                        try (Jedis l = jedis(ledgerUri); UnifiedJedis j = queue()) {
                            return missing(l, j) == 0 && deadLetterCount(j) >= poisonCount && timeMissing(l) == 0;
                        }
                    });
                } catch (AssertionError incomplete) {
                    // Reported below as lost events.
                }
            } else {
                awaitTimeOrExplain(Duration.ofSeconds(180), () -> "every good event completed and every poison dead-lettered; "
                        + state[0], () -> {
                    try (Jedis l = jedis(ledgerUri); UnifiedJedis j = queue()) {
                        long dlq = deadLetterCount(j);
                        long completed = goodCount - missing(l, j);
                        long pending = pendingTotal(j);
                        long retries = retriesWaiting(j);
                        state[0] = "completed " + completed + "/" + goodCount + ", dead letters " + dlq + "/" + poisonCount
                                + ", pending " + pending + ", retries waiting " + retries;
                        long timeMissing = timeMissing(l);
                        state[0] += ", delayed and scheduled missing " + timeMissing;
                        return completed == goodCount && dlq >= poisonCount && pending == 0 && retries == 0
                                && timeMissing == 0;
                    }
                });
            }
            finalWaitMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - producerDone);
            for (Thread w : recoveryWatchers) {
                w.join(TimeUnit.SECONDS.toMillis(120));
            }
            // A worker restarted after a kill may still be starting: the run never waited for it, so on a
            // loaded machine health was judged before it had run at all (at load 20 a worker JVM took 37 to
            // 51 s from its launch to its first report, against 3 s at load 12; docs/RELIABILITY.md).
            // A process that never started says whether it still runs or how it ended (its lines are in
            // target/chaos-workers.log, which every worker shares).
            awaitTrue(Duration.ofSeconds(180), () -> "every worker process started: not yet " + notStarted().stream()
                    .map(pid -> pid + workers.stream().filter(w -> Long.toString(w.pid()).equals(pid)).findFirst()
                            .map(w -> w.isAlive() ? " (running)" : " (exited " + w.exitValue() + ")").orElse(""))
                    .toList(), () -> {
                try {
                    return notStarted().isEmpty();
                } catch (RuntimeException e) {
                    return false;
                }
            });
            String unhealthy = awaitHealthy(Duration.ofSeconds(30));
            return report(uri, published.get(), good, poison, kills, restarts, pauses, recovery, unhealthy,
                    (System.nanoTime() - t0) / 1_000_000_000L);
        } finally {
            for (Process p : workers) {
                p.destroyForcibly();
            }
            if (cluster != null) {
                cluster.close();
            }
        }
    }

    /**
     * {@link #awaitTrue}, and when it times out with delayed events or occurrences missing, the
     * failure says of each whether it was late (its effect came while the run listened on) or lost,
     * and what Redis held of it at the deadline ({@link ChaosMissing}).
     */
    private void awaitTimeOrExplain(Duration timeout, java.util.function.Supplier<String> what,
                                    java.util.function.BooleanSupplier condition) {
        try {
            awaitTrue(timeout, what, condition);
        } catch (AssertionError timedOut) {
            if (time == null) {
                throw timedOut;
            }
            long deadline = System.currentTimeMillis();
            String explained;
            try (Jedis l = jedis(ledgerUri)) {
                java.util.Set<String> ids = time.missing(l);
                List<ChaosMissing.Expected> missing = time.expected().stream().filter(e -> ids.contains(e.id())).toList();
                explained = missing.isEmpty() ? "no delayed event or occurrence missing"
                        : new ChaosMissing(s.partitions(), this::partitionKey, this::queue)
                                .explain(l, missing, deadline, LISTEN_AFTER_DEADLINE_MILLIS);
            } catch (RuntimeException e) {
                explained = "cannot tell late from lost: " + e;
            }
            System.out.println(explained);
            throw new AssertionError(timedOut.getMessage() + "\n" + explained, timedOut);
        }
    }

    /** How long a failed run goes on listening for the missing delayed events and occurrences. */
    private static final long LISTEN_AFTER_DEADLINE_MILLIS = 120_000;

    /** A client of the queue's Redis, one server or the cluster; close it after use. */
    private UnifiedJedis queue() {
        if (cluster != null) {
            return cluster.client();
        }
        java.net.URI u = java.net.URI.create(queueUri);
        return redis.clients.jedis.RedisClient.builder().hostAndPort(u.getHost(), u.getPort())
                .clientConfig(redis.clients.jedis.DefaultJedisClientConfig.builder().resp2().autoNegotiateProtocol(false)
                        .timeoutMillis(2000).build()).build();
    }

    private void produce(String uri, AtomicInteger published) {
        RedisOptions.Builder ob = RedisOptions.builder().uri(uri).partitions(s.partitions());
        if (s.waitReplicas() > 0) {
            ob.waitForReplicas(s.waitReplicas(), Duration.ofSeconds(1));
        }
        RedisOptions options = ob.build();
        UnifiedJedis[] raw = {null};
        try (RedisEventTransport t = RedisEventTransport.create(options)) {
            long start = System.nanoTime();
            if (time != null) {
                // On the partition whose master the cluster form kills.
                long window = 1000L * s.events() / s.publishRate();
                time.createSchedule(t.schedules().orElseThrow(), time.tickerExecution(1),
                        System.currentTimeMillis() + window);
            }
            for (int i = 0; i < s.events(); i++) {
                String type = isPoison(i) ? "POISON" : isSlow(i) ? "SLOW" : "WORK";
                int execution = i % s.executions();
                int seq = i / s.executions();
                WorkflowEvent e = WorkflowEvent.builder(type).eventId("ev-" + i)
                        .executionId("exec-" + execution).payload(Map.of("seq", seq)).build();
                // Partitioned, a tenth of the executions come from a seed-format producer through
                // the single stream and the router; each execution keeps to one path, so its order holds.
                boolean seedProducer = s.partitions() > 0 && execution % 10 == 0;
                long sentAt = System.currentTimeMillis();
                while (true) {
                    try {
                        if (seedProducer) {
                            if (raw[0] == null) {
                                raw[0] = queue();
                            }
                            Map<String, String> fields = Map.of("event_id", e.eventId(),
                                    "execution_id", e.executionId(), "event_name", "", "event_type", type,
                                    "tenant", "", "user_id", "", "payload_json", "{\"seq\":" + seq + "}");
                            // A careful seed producer on a cluster with replicas waits for them too.
                            try (redis.clients.jedis.AbstractPipeline p = raw[0].pipelined()) {
                                redis.clients.jedis.Response<StreamEntryID> id = p.xadd(STREAM, StreamEntryID.NEW_ENTRY, fields);
                                redis.clients.jedis.Response<Long> acked = s.waitReplicas() > 0
                                        ? p.waitReplicas(STREAM, s.waitReplicas(), 1000) : null;
                                p.sync();
                                id.get();
                                if (acked != null && acked.get() < s.waitReplicas()) {
                                    throw new IllegalStateException("seed XADD not confirmed by a replica");
                                }
                            }
                        } else {
                            t.publish(e);
                        }
                        break;
                    } catch (RuntimeException ex) {
                        // Redis is restarting or paused: a producer retries, and the entry may then be there twice.
                        publishRetries.incrementAndGet();
                        if (seedProducer) {
                            // A plain connection does not come back by itself after Redis restarts;
                            // closing a broken one may throw, which must not end the producer.
                            try {
                                if (raw[0] != null) {
                                    raw[0].close();
                                }
                            } catch (RuntimeException closing) {
                                // already broken
                            }
                            raw[0] = null;
                        }
                        sleepQuietly(50);
                    }
                }
                published.incrementAndGet();
                if (time != null && !isPoison(i)) {
                    time.published(e.executionId(), seq, sentAt, System.currentTimeMillis());
                }
                if (time != null && time.bringsDelayed(i)) {
                    time.publishDelayed(t.delayed().orElseThrow(), "dl-" + i, e.executionId());
                }
                long due = start + TimeUnit.SECONDS.toNanos(1) * (i + 1) / s.publishRate();
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    sleepQuietly(TimeUnit.NANOSECONDS.toMillis(wait));
                }
            }
            // The statistics read the stream from Redis, which may be paused or restarting: tried a while.
            for (int attempt = 0; attempt < 100 && publishedAgain < 0; attempt++) {
                try {
                    publishedAgain = t.stats().orElseThrow().publishedAgain();
                } catch (RuntimeException e) {
                    sleepQuietly(100);
                }
            }
        } finally {
            try {
                if (raw[0] != null) {
                    raw[0].close();
                }
            } catch (RuntimeException closing) {
                // already broken
            }
        }
    }

    /**
     * Time from the kill until no entry is pending on a consumer of the killed process, or,
     * partitioned, until no partition lease names it.
     */
    private long awaitNoPendingOf(String ignored, long pid, long killedAt) {
        String marker = "-" + pid + "-worker";
        String owner = "workflow-worker-" + pid + "-";
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            try (UnifiedJedis j = queue()) {
                long pending = 0;
                if (s.partitions() > 0) {
                    for (int p = 0; p < s.partitions(); p++) {
                        String lease = j.get(partitionKey(p) + ":lease");
                        if (lease != null && lease.startsWith(owner)) {
                            pending++;
                        }
                    }
                } else {
                    for (StreamConsumerInfo c : j.xinfoConsumers2(STREAM, "workflow-processors")) {
                        if (c.getName().contains(marker)) {
                            pending += c.getPending();
                        }
                    }
                }
                if (pending == 0) {
                    return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt);
                }
            } catch (RuntimeException e) {
                // Redis restarting: look again.
            }
            sleepQuietly(50);
        }
        return -1;
    }

    private String partitionKey(int p) {
        return TestKeys.partitionStream(queueOptions, p);
    }

    /**
     * Good events not (yet) completed. Partitioned, from the handlers' own record of applied
     * effects (there are no markers); shared, from the processed markers, since a kill between the
     * ack and the handler's record leaves only the marker.
     */
    private long missing(Jedis ledger, UnifiedJedis queue) {
        if (s.partitions() == 0) {
            return missingMarkers(queue);
        }
        redis.clients.jedis.Pipeline p = ledger.pipelined();
        List<redis.clients.jedis.Response<Boolean>> exists = new ArrayList<>();
        for (int i = 0; i < s.events(); i++) {
            if (!isPoison(i)) {
                exists.add(p.hexists(ChaosWorkerMain.DONE, "ev-" + i));
            }
        }
        p.sync();
        return exists.stream().filter(r -> !r.get()).count();
    }

    /**
     * Delayed events and schedule occurrences expected and without an applied effect yet (an
     * occurrence the misfire policy coalesced into a later one that ran is not expected: ChaosTime).
     */
    private long timeMissing(Jedis ledger) {
        return time == null ? 0 : time.missing(ledger).size();
    }

    private long deadLetterCount(UnifiedJedis j) {
        if (s.partitions() == 0) {
            return j.exists(queueOptions.deadLetterStream()) ? j.xlen(queueOptions.deadLetterStream()) : 0;
        }
        long n = 0;
        for (int p = 0; p < s.partitions(); p++) {
            n += j.exists(partitionKey(p) + ":dlq") ? j.xlen(partitionKey(p) + ":dlq") : 0;
        }
        return n;
    }

    private List<StreamEntry> deadLetters(UnifiedJedis j) {
        List<String> keys = new ArrayList<>();
        if (s.partitions() == 0) {
            keys.add(queueOptions.deadLetterStream());
        } else {
            for (int p = 0; p < s.partitions(); p++) {
                keys.add(partitionKey(p) + ":dlq");
            }
        }
        List<StreamEntry> out = new ArrayList<>();
        for (String k : keys) {
            if (j.exists(k)) {
                out.addAll(j.xrange(k, (StreamEntryID) null, null));
            }
        }
        return out;
    }

    /**
     * Retries still waiting, as Redis holds them. Partitioned, the held marks: a mark goes with its
     * entry's settlement (docs/ARCHITECTURE.md, "Ordered processing"), so at the end none may be
     * left even though a leftover mark would only be counted, never applied again: it is the
     * stream's "retries waiting", and one that outlived its entry once hid a commit that dropped
     * the marks of attempts 2 and up only.
     */
    private long retriesWaiting(UnifiedJedis j) {
        if (s.partitions() == 0) {
            return j.zcard(queueOptions.retryKey());
        }
        long n = 0;
        for (int p = 0; p < s.partitions(); p++) {
            String held = partitionKey(p) + ":held";
            // less the placeholder every open puts there (PartitionKeys.PLACEHOLDER)
            n += j.hlen(held) - (j.hexists(held, "0-0") ? 1 : 0);
        }
        return n;
    }

    /** Good events without a processed marker: not (yet) completed. */
    private long missingMarkers(UnifiedJedis j) {
        redis.clients.jedis.AbstractPipeline p = j.pipelined();
        List<redis.clients.jedis.Response<Boolean>> exists = new ArrayList<>();
        for (int i = 0; i < s.events(); i++) {
            if (!isPoison(i)) {
                exists.add(p.exists(TestKeys.processedKey(queueOptions, "ev-" + i)));
            }
        }
        p.sync();
        return exists.stream().filter(r -> !r.get()).count();
    }

    private long pendingTotal(UnifiedJedis j) {
        if (s.partitions() == 0) {
            return j.xpending(STREAM, "workflow-processors").getTotal();
        }
        // The single stream counts too: an entry not yet routed is not done.
        long n = j.exists(STREAM) ? j.xpending(STREAM, "workflow-processors-router").getTotal()
                + routerLag(j) : 0;
        for (int p = 0; p < s.partitions(); p++) {
            if (j.exists(partitionKey(p))) {
                n += unsettled(j, partitionKey(p));
            }
        }
        return n;
    }

    /**
     * Entries of a partition, read as a log, that are not settled: above its committed position
     * and not in its settled set. Scanned from the stream here, not taken from the library's
     * counters (docs/ARCHITECTURE.md, "Ordered processing").
     */
    private static long unsettled(UnifiedJedis j, String partition) {
        String c = j.hget(partition + ":log", "c");
        java.util.Set<String> settled = j.smembers(partition + ":settled");
        long n = 0;
        String from = c == null ? "-" : "(" + c;
        while (true) {
            List<redis.clients.jedis.resps.StreamEntry> page = j.xrange(partition, from, "+", 1000);
            for (redis.clients.jedis.resps.StreamEntry e : page) {
                if (!settled.contains(e.getID().toString())) {
                    n++;
                }
            }
            if (page.size() < 1000) {
                return n;
            }
            from = "(" + page.get(page.size() - 1).getID();
        }
    }

    private static long routerLag(UnifiedJedis j) {
        return lag(j, STREAM);
    }

    /** Entries the stream's groups have not been delivered yet (0 when unknown). */
    private static long lag(UnifiedJedis j, String stream) {
        long max = 0;
        for (redis.clients.jedis.resps.StreamGroupInfo g : j.xinfoGroups(stream)) {
            Object lag = g.getGroupInfo().get("lag");
            if (lag instanceof Long l) {
                max = Math.max(max, l);
            }
        }
        return max;
    }

    /** {@return the worker processes (pids) that have not marked themselves ready, that is started their service} */
    private List<String> notStarted() {
        try (Jedis j = jedis(ledgerUri)) {
            List<String> out = new ArrayList<>();
            for (Process p : workers) {
                if (!j.sismember(ChaosWorkerMain.READY, Long.toString(p.pid()))) {
                    out.add(Long.toString(p.pid()));
                }
            }
            return out;
        }
    }

    /**
     * Waits until every worker's latest health report says healthy: "" then, else each worker's
     * last report that did not (or that it had none), so a failure shows which rule held it.
     */
    private String awaitHealthy(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, String> notHealthy = new java.util.TreeMap<>();
        while (System.nanoTime() < deadline) {
            try (Jedis j = jedis(ledgerUri)) {
                notHealthy.clear();
                for (Process p : workers) {
                    String pid = Long.toString(p.pid());
                    String h = j.get(ChaosWorkerMain.HEALTH + pid);
                    if (h == null || !h.startsWith("{\"status\":\"healthy\"")) {
                        notHealthy.put(pid, h == null ? "no report in the last 5 s" : h);
                    }
                }
                if (notHealthy.isEmpty()) {
                    return "";
                }
            } catch (RuntimeException e) {
                notHealthy.put("ledger", "unreadable: " + e);
            }
            sleepQuietly(200);
        }
        StringBuilder sb = new StringBuilder("not healthy after " + timeout.toSeconds() + " s:");
        notHealthy.forEach((pid, h) -> sb.append("\n  ").append(pid).append(": ").append(h));
        return sb.toString();
    }

    private Report report(String uri, int published, int good, int poison, int kills, int restarts, int pauses,
                          List<Long> recovery, String unhealthy, long seconds) {
        try (Jedis j = jedis(ledgerUri); UnifiedJedis q = queue()) {
            long invocations = j.scard(ChaosWorkerMain.STARTS);
            Map<String, Long> succeeded = new java.util.HashMap<>();
            for (String member : j.smembers(ChaosWorkerMain.SUCCEEDED)) {
                succeeded.merge(member.substring(0, member.indexOf('|')), 1L, Long::sum);
            }
            long completions = succeeded.values().stream().mapToLong(Long::longValue).sum();
            long duplicates = succeeded.values().stream().mapToLong(Long::longValue).filter(n -> n > 1).map(n -> n - 1).sum();
            long lost = missing(j, q);
            String stale = j.get(ChaosWorkerMain.STALE);
            String order = j.get(ChaosWorkerMain.ORDER_VIOLATIONS);
            List<StreamEntry> dlq = deadLetters(q);
            java.util.Set<String> poisonIds = new java.util.HashSet<>();
            long poisonAgain = 0;
            long goodDead = 0;
            for (StreamEntry e : dlq) {
                String msg = e.getFields().get("error_message");
                if (msg != null && msg.startsWith("poison event ev-")) {
                    // The handler's message names the event: "poison event <event id>".
                    if (!poisonIds.add(msg.substring("poison event ".length()).split("\\s", 2)[0])) {
                        poisonAgain++;
                    }
                } else {
                    goodDead++;
                }
            }
            long poisonDead = poisonIds.size();
            String health = !unhealthy.isEmpty() || workers.isEmpty() ? unhealthy
                    : j.get(ChaosWorkerMain.HEALTH + workers.get(0).pid());
            // Completed (marker present) but the process died between the ack and its ledger record.
            long unrecorded = good - lost - succeeded.keySet().stream().filter(id -> id.startsWith("ev-")).count();
            return new Report(s, published, good, poison, kills, restarts, pauses, invocations, completions,
                    duplicates, lost, unrecorded, stale == null ? 0 : Long.parseLong(stale), dlq.size(), poisonDead, poisonAgain, goodDead,
                    recovery, unhealthy.isEmpty(), health, seconds, order == null ? 0 : Long.parseLong(order), publishRetries.get(),
                    publishedAgain, finalWaitMillis, freezer == null ? ChaosFreezes.Figures.NONE : freezer.judge(j),
                    time == null ? ChaosTime.Figures.NONE : time.judge(j));
        }
    }

    private static Jedis jedis(String uri) {
        java.net.URI u = java.net.URI.create(uri);
        return new Jedis(new redis.clients.jedis.HostAndPort(u.getHost(), u.getPort()),
                redis.clients.jedis.DefaultJedisClientConfig.builder().resp2().autoNegotiateProtocol(false)
                        .timeoutMillis(2000).build());
    }

    private static void awaitTrue(Duration timeout, String what, java.util.function.BooleanSupplier condition) {
        awaitTrue(timeout, () -> what, condition);
    }

    private static void awaitTrue(Duration timeout, java.util.function.Supplier<String> what,
                                  java.util.function.BooleanSupplier condition) {
        // Checking 50,000 markers is not free for Redis: look once a second for long waits.
        long pollMillis = timeout.toSeconds() > 60 ? 1000 : 100;
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            try {
                if (condition.getAsBoolean()) {
                    return;
                }
            } catch (RuntimeException e) {
                // Redis briefly unavailable: look again.
            }
            sleepQuietly(pollMillis);
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

    /**
     * {@return the worker processes' log lines of this run that say cohorts formed} Each worker
     * logs one when its cohorts reach 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 16, ...
     */
    static long cohortLines() throws IOException {
        Path log = Path.of("target", "chaos-workers.log");
        if (!Files.exists(log)) {
            return 0;
        }
        try (var lines = Files.lines(log, java.nio.charset.StandardCharsets.UTF_8)) {
            return lines.filter(l -> l.contains("cohorts formed so far")).count();
        }
    }

    static void writeReport(Report r, Path file) throws IOException {
        Files.createDirectories(file.toAbsolutePath().getParent());
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(r.table().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        }
    }
}
