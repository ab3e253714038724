package dev.workflowworker.examples;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.LongSupplier;

/**
 * {@code java -jar workflow-worker-examples.jar produce [--rate N] [--count N]}: publishes demo
 * events of the types {@code serve} handles ({@link ServiceMode#demoRuntime()}) to Redis with the
 * library's publisher ({@link RedisEventTransport#publishAll(List)}), so that {@code serve} in
 * another terminal has work to do. Redis, stream and group come from {@code REDIS_URL} (required),
 * {@code WORKER_STREAM} and {@code WORKER_GROUP} ({@link RedisOptions#fromEnvironment(Map)}).
 *
 * <p>Events are paced by schedule: event {@code i} is due {@code i / rate} seconds after the start,
 * and each round publishes every event already due in one pipelined call, so a slow round is
 * caught up rather than adding to the total time.
 *
 * <p>Exit codes: 0 every event published, 1 publishing failed (Redis unreachable), 2 usage error.
 */
final class Produce {

    static final int DEFAULT_RATE = 100;
    static final int DEFAULT_COUNT = 1_000;
    /** Most events in one pipelined publish, so a large backlog does not become one huge call. */
    static final int MAX_BATCH = 500;

    static final String USAGE = String.join("\n",
            "usage: java -jar workflow-worker-examples.jar produce [--rate N] [--count N]",
            "  --rate N    events per second (default " + DEFAULT_RATE + ")",
            "  --count N   events to publish (default " + DEFAULT_COUNT + ")",
            "publishes TICKET_CREATED, EMAIL_SEND and REPORT_GENERATE events, the types 'serve' handles",
            "environment: REDIS_URL (required), WORKER_STREAM, WORKER_GROUP");

    private Produce() {
    }

    static int run(List<String> args, Map<String, String> env, PrintStream out, PrintStream err) {
        int rate;
        int count;
        RedisOptions options;
        try {
            List<String> a = new ArrayList<>(args);
            rate = AdminCli.intOption(a, "--rate", DEFAULT_RATE);
            count = AdminCli.intOption(a, "--count", DEFAULT_COUNT);
            if (!a.isEmpty()) {
                throw new AdminCli.UsageException("unexpected argument '" + a.get(0) + "'");
            }
            if (env.get("REDIS_URL") == null || env.get("REDIS_URL").isBlank()) {
                throw new AdminCli.UsageException("REDIS_URL is not set; produce publishes to Redis, "
                        + "e.g. REDIS_URL=redis://localhost:6379 (the same as for serve)");
            }
            options = RedisOptions.fromEnvironment(env);
        } catch (AdminCli.UsageException e) {
            err.println("produce: " + e.getMessage());
            err.println(USAGE);
            return 2;
        } catch (IllegalArgumentException e) {
            err.println("produce: " + e.getMessage());
            return 2;
        }
        out.printf("producing %d events at %d/s to Redis at %s, stream %s%n", count, rate, options.endpoint(),
                options.stream());
        long start = System.nanoTime();
        AtomicInteger published = new AtomicInteger();
        try (RedisEventTransport transport = RedisEventTransport.create(options)) {
            publish(transport, rate, count, start, System::nanoTime, published);
            return 0;
        } catch (RuntimeException e) {
            err.println("produce: publishing failed after " + published.get() + " events: " + e.getMessage());
            return 1;
        } finally {
            double seconds = (System.nanoTime() - start) / 1e9;
            out.printf("published %d events in %.3f s (%.1f events/s, target %d/s)%n", published.get(), seconds,
                    seconds > 0 ? published.get() / seconds : 0.0, rate);
        }
    }

    /**
     * Publishes {@code count} events, event {@code i} not before {@code start + i / rate}.
     *
     * @param published counts the events published so far
     */
    static void publish(RedisEventTransport transport, int rate, int count, long start, LongSupplier nanos,
                        AtomicInteger published) {
        while (published.get() < count) {
            long now = nanos.getAsLong();
            // every event whose due time has come: floor(elapsed * rate) + 1, the first being due at once
            long due = Math.min(count, (now - start) / 1_000_000_000L * rate
                    + ((now - start) % 1_000_000_000L) * rate / 1_000_000_000L + 1);
            int done = published.get();
            if (due <= done) {
                LockSupport.parkNanos(dueAt(start, done, rate) - now);
                continue;
            }
            int batch = (int) Math.min(due - done, MAX_BATCH);
            List<WorkflowEvent> events = new ArrayList<>(batch);
            for (int i = 0; i < batch; i++) {
                events.add(event(done + i));
            }
            transport.publishAll(events);
            published.addAndGet(batch);
        }
    }

    private static long dueAt(long start, long index, int rate) {
        return start + index / rate * 1_000_000_000L + (index % rate) * 1_000_000_000L / rate;
    }

    /** The {@code i}-th demo event: mostly tickets, every third an e-mail, every tenth a short report. */
    static WorkflowEvent event(int i) {
        String exec = "exec-" + (i % 50);
        if (i % 10 == 9) {
            return WorkflowEvent.builder("REPORT_GENERATE").executionId(exec).tenant("acme")
                    .payload(Map.of("report", "R-" + i, "duration_ms", 20)).build();
        }
        if (i % 3 == 1) {
            return WorkflowEvent.builder("EMAIL_SEND").executionId(exec).tenant("acme")
                    .payload(Map.of("to", "user" + i + "@example.com")).build();
        }
        return WorkflowEvent.builder("TICKET_CREATED").executionId(exec).tenant("acme")
                .payload(Map.of("ticket_id", "T-" + i)).build();
    }
}
