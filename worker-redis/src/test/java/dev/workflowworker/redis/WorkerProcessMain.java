package dev.workflowworker.redis;

import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import redis.clients.jedis.RedisClient;

import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/**
 * A worker host run as a separate JVM by {@link MultiProcessTest}. It records every handler run
 * and every success in Redis, and stops when its standard input closes.
 *
 * <p>Arguments: Redis URI, mode ({@code work} completes events, {@code hang} blocks in the
 * handler forever so the test can kill the process mid-event), claim idle and lock TTL in
 * milliseconds.
 */
public final class WorkerProcessMain {

    static final String RUNS = "test:runs";
    static final String SUCCEEDED = "test:succeeded";
    static final String HANGING = "test:hanging";
    static final String STARTED = "test:started";
    static final String HANDLED_BY = "test:handled-by";

    private WorkerProcessMain() {
    }

    public static void main(String[] args) throws Exception {
        String uri = args[0];
        boolean hang = "hang".equals(args[1]);
        Duration claimIdle = Duration.ofMillis(Long.parseLong(args[2]));
        Duration lockTtl = Duration.ofMillis(Long.parseLong(args[3]));
        String pid = Long.toString(ProcessHandle.current().pid());
        // Claims of a killed process's entries: the shared stream's.
        RedisOptions options = RedisOptions.builder().uri(uri).partitions(0).build();
        try (RedisClient records = RedisClient.builder().hostAndPort(options.host(), options.port()).build()) {
            ActionRuntime runtime = ActionRuntime.builder().on("WORK", ctx -> {
                records.hincrBy(RUNS, ctx.event().eventId(), 1);
                records.sadd(HANDLED_BY, pid);
                if (hang) {
                    records.set(HANGING, ctx.event().eventId());
                    new CountDownLatch(1).await(); // until the test kills this process
                }
            }).build();
            RedisEventTransport transport = RedisEventTransport.create(options);
            try (WorkerService service = WorkerService.builder()
                    .transport(transport)
                    .runtime(runtime)
                    .workerCount(2)
                    .concurrencyLimit(4)
                    .pollInterval(Duration.ofMillis(200))
                    .claimIdle(claimIdle)
                    .lockTtl(lockTtl)
                    .listener(new WorkerListener() {
                        @Override
                        public void onOutcome(EventOutcome o) {
                            if (o.kind() == EventOutcome.Kind.SUCCEEDED) {
                                records.rpush(SUCCEEDED, o.event().eventId());
                            }
                        }
                    })
                    .build()) {
                service.start();
                records.sadd(STARTED, pid);
                waitForEndOfInput(System.in);
            }
        }
    }

    private static void waitForEndOfInput(InputStream in) throws IOException {
        while (in.read() != -1) {
            // The parent only ever closes the stream.
        }
    }
}
