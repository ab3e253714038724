package dev.workflowworker.redis.chaos;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.redis.RedisErrorClassifier;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;
import redis.clients.jedis.RedisClient;

import dev.workflowworker.core.schedule.Schedule;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Supplier;

/**
 * A worker process of the chaos run. Its handlers write a ledger into Redis: every handler start
 * and every success by event id, and a fenced "effect" per execution id that a downstream system
 * would apply, refusing tokens older than the newest it has seen. The process writes its health
 * JSON to Redis every 500 ms and runs until killed or until its standard input closes.
 *
 * <p>Arguments: Redis URI, lock TTL ms, claim idle ms, partitions (0 for one shared stream), the
 * ledger's URI, replicas to wait for, handler slots per worker (8 unless given).
 */
public final class ChaosWorkerMain {

    static final String STARTS = "chaos:starts";
    static final String SUCCEEDED = "chaos:succeeded";
    static final String STALE = "chaos:stale-effects";
    /** Per process id, the effects the downstream refused for a stale token. */
    static final String STALE_BY = "chaos:stale-by";
    /** Outcomes refused because the lease was lost, one member per outcome: {@code <pid>|<uuid>}. */
    static final String LEASE_LOST = "chaos:lease-lost";
    static final String HEALTH = "chaos:health:";
    static final String READY = "chaos:ready";
    /** Per event id, the fencing token of the run whose effect was applied: the handlers' own completion record. */
    static final String DONE = "chaos:done";
    /** Per execution id, the highest event sequence whose effect was applied. */
    static final String ORDER = "chaos:order";
    /** Effects applied for an event sequence below one already applied for its execution id. */
    static final String ORDER_VIOLATIONS = "chaos:order-violations";
    /** Per delayed event id, the highest sequence of its execution applied when its effect was. */
    static final String DELAYED_BEFORE = "chaos:delayed-before";
    /** Per delayed event id, when its handler started (ms, this machine's clock): after it was moved. */
    static final String DELAYED_AT = "chaos:delayed-at";
    /** Per schedule occurrence id, when its handler first started (ms, this machine's clock): after it was fired. */
    static final String TICK_AT = "chaos:tick-at";

    /** The downstream effect: accepted only if its token is not older than the newest seen for the key. */
    private static final String FENCED_EFFECT =
            "local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')\n"
            + "local token = tonumber(ARGV[2])\n"
            + "if token < last then redis.call('INCR', KEYS[2]) redis.call('HINCRBY', KEYS[#KEYS], ARGV[5], 1) return 0 end\n"
            + "redis.call('HSET', KEYS[1], ARGV[1], token)\n"
            // The order ledger: an execution's effects must come in sequence order; the same
            // sequence again is a rerun after a lost commit, allowed.
            + "local seq = tonumber(ARGV[4])\n"
            + "local done = tonumber(redis.call('HGET', KEYS[3], ARGV[1]) or '-1')\n"
            + "if seq < done then redis.call('INCR', KEYS[4]) else redis.call('HSET', KEYS[3], ARGV[1], seq) end\n"
            + "redis.call('HSET', KEYS[5], ARGV[3], token)\n"
            + "return 1";

    /**
     * A delayed event's effect: fenced like the others, and recording where it joined its
     * execution's order (the highest sequence applied before it) and when its handler started; it has no sequence of
     * its own, so it moves no order mark.
     */
    private static final String DELAYED_EFFECT =
            "local last = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')\n"
            + "local token = tonumber(ARGV[2])\n"
            + "if token < last then redis.call('INCR', KEYS[2]) redis.call('HINCRBY', KEYS[#KEYS], ARGV[5], 1) return 0 end\n"
            + "redis.call('HSET', KEYS[1], ARGV[1], token)\n"
            + "redis.call('HSET', KEYS[5], ARGV[3], redis.call('HGET', KEYS[3], ARGV[1]) or '-1')\n"
            + "redis.call('HSET', KEYS[6], ARGV[3], ARGV[4])\n"
            + "redis.call('HSET', KEYS[4], ARGV[3], token)\n"
            + "return 1";

    private static final String PID = Long.toString(ProcessHandle.current().pid());

    private ChaosWorkerMain() {
    }

    public static void main(String[] args) throws Exception {
        String uri = args[0];
        Duration lockTtl = Duration.ofMillis(Long.parseLong(args[1]));
        Duration claimIdle = Duration.ofMillis(Long.parseLong(args[2]));
        String pid = PID;
        int partitions = Integer.parseInt(args[3]);
        // On a cluster the ledger lives on a server of its own: a failover must not rewrite the record.
        String ledgerUri = args.length > 4 ? args[4] : uri;
        int waitReplicas = args.length > 5 ? Integer.parseInt(args[5]) : 0;
        int concurrency = args.length > 6 ? Integer.parseInt(args[6]) : 8;
        RedisOptions.Builder ob = RedisOptions.builder().uri(uri).partitions(partitions)
                .partitionLeaseTtl(lockTtl.multipliedBy(2));
        if (waitReplicas > 0) {
            ob.waitForReplicas(waitReplicas, Duration.ofSeconds(1));
        }
        RedisOptions options = ob.build();
        RedisOptions ledgerAt = RedisOptions.fromUri(ledgerUri);
        try (RedisClient ledger = RedisClient.builder().hostAndPort(ledgerAt.host(), ledgerAt.port()).build()) {
            ActionRuntime runtime = ActionRuntime.builder()
                    .on("WORK", ctx -> work(ledger, ctx, 0, FENCED_EFFECT, sequence(ctx)))
                    // Longer than the lock TTL, and than the partition lease (twice the lock TTL).
                    .on("SLOW", ctx -> work(ledger, ctx, lockTtl.toMillis() * 5 / 2, FENCED_EFFECT, sequence(ctx)))
                    .on(ChaosTime.DELAYED, ctx -> work(ledger, ctx, 0, DELAYED_EFFECT,
                            Long.toString(System.currentTimeMillis())))
                    // An occurrence's place in its execution's order is its scheduled second.
                    .on(ChaosTime.TICK, ctx -> {
                        // When it was fired at the latest: the misfire policy's judgement needs it (ChaosTime).
                        String startedAt = Long.toString(System.currentTimeMillis());
                        retry(ctx, () -> ledger.hsetnx(TICK_AT, ctx.event().eventId(), startedAt));
                        work(ledger, ctx, 0, FENCED_EFFECT, Long.toString(Instant.parse(
                                ctx.event().headers().get(Schedule.SCHEDULED_AT_HEADER)).getEpochSecond()));
                    })
                    .on("POISON", ctx -> {
                        record(ledger, ctx, STARTS, ctx.event().eventId());
                        throw new PermanentWorkflowException("poison event " + ctx.event().eventId());
                    })
                    .build();
            RedisEventTransport transport = RedisEventTransport.create(options);
            try (WorkerService service = WorkerService.builder()
                    .transport(transport)
                    .runtime(runtime)
                    .errorClassifier(RedisErrorClassifier.INSTANCE)
                    .workerCount(2)
                    .concurrencyLimit(concurrency)
                    .batchSize(16)
                    .pollInterval(Duration.ofMillis(200))
                    .lockTtl(lockTtl)
                    .claimIdle(claimIdle)
                    .lockContentionDelay(Duration.ofMillis(20))
                    .initialBackoff(Duration.ofMillis(100))
                    .maxBackoff(Duration.ofSeconds(1))
                    .healthCheckInterval(Duration.ofSeconds(2))
                    .listener(new WorkerListener() {
                        @Override
                        public void onOutcome(EventOutcome o) {
                            if (o.kind() == EventOutcome.Kind.SUCCEEDED) {
                                record(ledger, null, SUCCEEDED, o.event().eventId());
                            } else if (o.kind() == EventOutcome.Kind.LEASE_LOST) {
                                record(ledger, null, LEASE_LOST, pid);
                            }
                        }
                    })
                    .build()) {
                service.start();
                Thread health = new Thread(() -> {
                    while (!Thread.currentThread().isInterrupted()) {
                        try {
                            ledger.setex(HEALTH + pid, 5, service.health().toJson());
                            // The report's period: the orchestrator reads the latest report, it waits on nothing here.
                            Thread.sleep(500);
                        } catch (InterruptedException e) {
                            return;
                        } catch (RuntimeException e) {
                            // Redis is down or paused; the next round reports again, after the same
                            // period: a refused connection fails at once, and a loop without it
                            // spins a core while Redis restarts.
                            try {
                                Thread.sleep(500);
                            } catch (InterruptedException stop) {
                                return;
                            }
                        }
                    }
                }, "chaos-health");
                health.setDaemon(true);
                health.start();
                retry(null, () -> ledger.sadd(READY, pid));
                while (System.in.read() != -1) {
                    // Runs until the orchestrator closes stdin or kills the process.
                }
                health.interrupt();
            }
        }
    }

    private static String sequence(EventContext ctx) {
        return ctx.payload().getOrDefault("seq", "0").toString();
    }

    /**
     * The handler: its start, its work time, then its fenced effect ({@code script}, whose last
     * argument is {@code last}: the event's sequence, or for a delayed event the time).
     */
    private static void work(RedisClient ledger, EventContext ctx, long sleepMillis, String script, String last)
            throws InterruptedException {
        String eventId = ctx.event().eventId();
        record(ledger, ctx, STARTS, eventId);
        long pause = sleepMillis > 0 ? sleepMillis : ThreadLocalRandom.current().nextInt(3);
        if (pause > 0) {
            // The handler's own work time, which the chaos run needs events to take.
            Thread.sleep(pause);
        }
        ctx.throwIfCancelled();
        List<String> keys = script.equals(DELAYED_EFFECT)
                ? List.of("chaos:fence", STALE, ORDER, DONE, DELAYED_BEFORE, DELAYED_AT, STALE_BY)
                : List.of("chaos:fence", STALE, ORDER, ORDER_VIOLATIONS, DONE, STALE_BY);
        Object accepted = retry(ctx, () -> ledger.eval(script, keys,
                List.of(ctx.event().executionId(), Long.toString(ctx.fencingToken()), eventId, last, PID)));
        if (!Long.valueOf(1).equals(accepted)) {
            throw new PermanentWorkflowException("downstream refused a stale fencing token " + ctx.fencingToken());
        }
    }

    /**
     * Adds one ledger record. Each record has its own id, so a write repeated after a lost reply
     * (Redis paused or killed after executing it) is counted once: an increment would count twice.
     */
    private static void record(RedisClient ledger, EventContext ctx, String ledgerKey, String eventId) {
        String member = eventId + "|" + UUID.randomUUID();
        retry(ctx, () -> ledger.sadd(ledgerKey, member));
    }

    /** Ledger writes must not turn a Redis blip into a failed event: retry them while the lease holds. */
    private static <T> T retry(EventContext ctx, Supplier<T> op) {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            try {
                return op.get();
            } catch (RuntimeException e) {
                if ((ctx != null && ctx.isCancelled()) || System.nanoTime() > deadline) {
                    throw e;
                }
                try {
                    // The pause between tries of a bounded retry, as a downstream client would make.
                    Thread.sleep(50);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw e;
                }
            }
        }
    }
}
