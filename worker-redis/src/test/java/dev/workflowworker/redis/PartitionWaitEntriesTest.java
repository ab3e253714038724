package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The partitioned reader's wait for news reads the entries it wakes for (one server): the event
 * that ends a wait is handed out from the wait's own reply, with no second read of the partition.
 * At a slow flow every event ends a wait, so the second read was a round trip per event on the
 * path from the publish to the handler (docs/BENCHMARKS.md, "jlat2").
 */
@ExtendWith(RedisServerExtension.class)
class PartitionWaitEntriesTest {

    @Test
    void anEventThatEndsTheWaitIsHandedOutFromTheWaitsReply(RedisServer redis) throws Exception {
        RedisOptions options = redis.options().stream("wait:entries").partitions(1)
                .partitionLeaseTtl(Duration.ofSeconds(30)).build();
        ExecutorService reader = Executors.newSingleThreadExecutor();
        try (Monitor monitor = new Monitor(redis.uri());
             RedisEventTransport t = RedisEventTransport.create(options);
             EventTransport.Consumer c = t.openConsumer("c1");
             RedisClient client = redis.client()) {
            CompletableFuture<List<Delivery>> read = CompletableFuture.supplyAsync(() -> {
                try {
                    return c.read(10, Duration.ofSeconds(30));
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            }, reader);
            // Once Redis has the reader's blocking XREAD (the router blocks on the seed stream
            // too), the publish below is what ends it.
            assertNotNull(monitor.next(line -> line.contains("\"XREAD\"") && line.contains("\"BLOCK\"")
                    && line.contains("\"{wait:entries#0}\""), 10),
                    "the reader never blocked in XREAD");
            t.publish(WorkflowEvent.builder("STEP").eventId("e1").executionId("exec-1").payload(Map.of("i", 1)).build());
            List<Delivery> got = read.get(10, TimeUnit.SECONDS);
            assertEquals(List.of("e1"), got.stream().map(d -> d.event().eventId()).toList());
            client.echo("end-of-test");
            List<String> reads = new ArrayList<>();
            List<String> all = new ArrayList<>();
            assertNotNull(monitor.next(line -> {
                all.add(line);
                if (line.contains("\"XREAD\"") && !line.contains("\"BLOCK\"")) {
                    reads.add(line);
                }
                return line.contains("\"end-of-test\"");
            }, 10), "the monitor lost the marker");
            assertEquals(List.of(), reads, "the partition was read again after the wait returned its entry: " + all);
            c.complete(got);
        } finally {
            reader.shutdownNow();
        }
    }

    /**
     * The wait's entries come without the lease's {@code GET} that goes with a round's reads, so
     * they are buffered only while the lease holds by the lease clock. Here the monotonic clock
     * jumps past the lease's validity just before the reader's blocking XREAD, and the event is
     * already there for it: the wait returns it at once, and it must not be handed out under the
     * lapsed lease (Redis still holds that lease, so a read's {@code GET} would have matched), only
     * under the next one.
     */
    @Test
    void theWaitsEntriesAreNotHandedOutUnderALeaseTheLeaseClockLetLapse(RedisServer redis) throws Exception {
        RedisOptions options = redis.options().stream("wait:lapsed").partitions(1)
                .partitionLeaseTtl(Duration.ofSeconds(2)).build();
        AtomicLong offset = new AtomicLong();
        TimeSource jumping = new TimeSource() {
            @Override
            public long wallMillis() {
                return System.currentTimeMillis();
            }

            @Override
            public long nanoTime() {
                return System.nanoTime() + offset.get();
            }
        };
        BlockingReadHook probe = new BlockingReadHook();
        try (RedisEventTransport t = RedisEventTransport.create(options, jumping, probe);
             EventTransport.Consumer c = t.openConsumer("c1")) {
            EventTransport.LockingConsumer locking = (EventTransport.LockingConsumer) c;
            t.publish(WorkflowEvent.builder("STEP").eventId("e0").executionId("exec-0").payload(Map.of("i", 0)).build());
            List<Delivery> first = readOne(c);
            long before = locking.acquire(first, Duration.ofSeconds(2)).get(0).lock().orElseThrow().fencingToken();
            c.complete(first);
            probe.arm(() -> {
                offset.addAndGet(Duration.ofSeconds(3).toNanos());
                t.publish(WorkflowEvent.builder("STEP").eventId("e1").executionId("exec-1").payload(Map.of("i", 1))
                        .build());
            });
            List<Delivery> second = readOne(c);
            assertEquals(List.of("e1"), second.stream().map(d -> d.event().eventId()).toList());
            assertTrue(probe.ran(), "the reader never reached its blocking XREAD");
            long after = locking.acquire(second, Duration.ofSeconds(2)).get(0).lock().orElseThrow().fencingToken();
            assertTrue(after > before, "e1 was handed out under the lapsed lease (token " + before + ")");
            c.complete(second);
        }
    }

    /** Reads until a delivery comes (bounded): the partition is taken and opened on the way. */
    private static List<Delivery> readOne(EventTransport.Consumer c) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            List<Delivery> got = c.read(1, Duration.ofMillis(500));
            if (!got.isEmpty()) {
                return got;
            }
        }
        throw new AssertionError("nothing was delivered in 20 s");
    }

    /** The server's MONITOR feed, one line per command it ran, on a socket of its own. */
    private static final class Monitor implements AutoCloseable {
        private final Socket socket;
        private final LinkedBlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final Thread pump;

        Monitor(String uri) throws IOException {
            URI u = URI.create(uri);
            socket = new Socket(u.getHost(), u.getPort());
            OutputStream out = socket.getOutputStream();
            out.write("MONITOR\r\n".getBytes(StandardCharsets.US_ASCII));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
            if (!"+OK".equals(in.readLine())) {
                throw new IOException("MONITOR was refused");
            }
            pump = new Thread(() -> {
                try {
                    for (String line; (line = in.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    // The socket closed at the end of the test.
                }
            }, "test-monitor");
            pump.setDaemon(true);
            pump.start();
        }

        /** {@return the first line from now on that {@code match} accepts, or null after {@code seconds}} */
        String next(Predicate<String> match, int seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (true) {
                String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (line == null || match.test(line)) {
                    return line;
                }
            }
        }

        @Override
        public void close() throws IOException {
            socket.close();
        }
    }
}
