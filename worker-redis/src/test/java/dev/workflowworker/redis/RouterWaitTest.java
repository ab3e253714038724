package dev.workflowworker.redis;

import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.partitioned.Router;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.AbstractTransaction;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.SetParams;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When the router waits for new entries of the single stream (docs/ARCHITECTURE.md, "The single
 * stream"): only after a read of new entries found none. Its wait is an {@code XREAD BLOCK} for
 * entries after the newest id it saw; entries not delivered yet but older than that id never end
 * it, so a wait begun while such entries exist holds them back for the whole block. Both tests
 * read the order of the router's commands on its connection from a proxy's log, not the time.
 */
@ExtendWith(RedisServerExtension.class)
class RouterWaitTest {

    private static final String STREAM = "router-wait";

    private final Set<String> handled = ConcurrentHashMap.newKeySet();
    private final AtomicInteger handledTimes = new AtomicInteger();

    private static void seedXadd(AbstractTransaction tx, int i) {
        tx.xadd(STREAM, StreamEntryID.NEW_ENTRY, entry(i));
    }

    private static Map<String, String> entry(int i) {
        return Map.of("event_id", "e" + i, "execution_id", "x" + (i % 5), "event_type", "STEP",
                "payload_json", "{}");
    }

    private WorkerService service(RedisOptions options) {
        WorkerService s = WorkerService.builder().transport(RedisEventTransport.create(options))
                .runtime(ctx -> {
                    handled.add(ctx.event().eventId());
                    handledTimes.incrementAndGet();
                }).pollInterval(Duration.ofMillis(100)).build();
        s.start();
        return s;
    }

    private static long routed(RedisClient client, RedisOptions options) {
        long n = 0;
        for (int p = 0; p < options.partitions(); p++) {
            n += client.xlen(options.partitionStream(p));
        }
        return n;
    }

    /** The requests of the router's connection to the single stream, in order. */
    private static List<RequestLogProxy.Request> routerRequests(List<RequestLogProxy.Request> log) {
        int router = log.stream().filter(r -> r.has("XREADGROUP") && r.has(STREAM)).findFirst()
                .orElseThrow(() -> new AssertionError("the router never read " + STREAM)).connection();
        return log.stream().filter(r -> r.connection() == router).toList();
    }

    private static int indexOf(List<RequestLogProxy.Request> requests, int from,
                               java.util.function.Predicate<RequestLogProxy.Request> p) {
        for (int i = from; i < requests.size(); i++) {
            if (p.test(requests.get(i))) {
                return i;
            }
        }
        return -1;
    }

    private static boolean isWait(RequestLogProxy.Request r) {
        return r.has("XREAD") && r.has("BLOCK") && r.has(STREAM);
    }

    /**
     * A router that takes the lease pages its pending list first; when that page is empty, the
     * entries waiting in the stream were never delivered, and it reads them at once rather than
     * wait for entries newer than the newest id its read saw.
     */
    @Test
    void aNewRouterReadsTheWaitingEntriesBeforeItWaitsForNewOnes(RedisServer redis) throws Exception {
        URI u = URI.create(redis.uri());
        try (RequestLogProxy proxy = new RequestLogProxy(u.getHost(), u.getPort());
             RedisClient client = redis.client()) {
            RedisOptions options = redis.options().uri("redis://127.0.0.1:" + proxy.port()).stream(STREAM)
                    .partitions(2).partitionLeaseTtl(Duration.ofSeconds(2)).build();
            for (int i = 0; i < 20; i++) {
                client.xadd(STREAM, StreamEntryID.NEW_ENTRY, entry(i));
            }
            WorkerService s = service(options);
            try {
                Await.until(Duration.ofSeconds(30), () -> handled.size() == 20, () -> "handled " + handled.size());
            } finally {
                s.close();
            }
            assertEquals(20, routed(client, options), "routed once each");
            assertEquals(20, handledTimes.get(), "handled once each");
            List<RequestLogProxy.Request> router = routerRequests(proxy.log());
            int readNew = indexOf(router, 0, r -> r.has("XREADGROUP") && r.has(">"));
            int firstWait = indexOf(router, 0, RouterWaitTest::isWait);
            assertTrue(readNew >= 0, "the router read new entries");
            assertTrue(firstWait < 0 || firstWait > readNew, "the router waited for new entries (request "
                    + firstWait + ") before it read the 20 waiting ones (request " + readNew + ")");
        }
    }

    /**
     * Three reads in a row aborted by changes of the lease key between WATCH and EXEC (here the
     * same value written again, as a renewal does): the router reads again, not waits, as the
     * entries its full batch left behind are older than the newest id it saw.
     */
    @Test
    void aRouterWhoseReadsWereAbortedReadsAgainRatherThanWait(RedisServer redis) throws Exception {
        URI u = URI.create(redis.uri());
        try (RequestLogProxy proxy = new RequestLogProxy(u.getHost(), u.getPort());
             RedisClient client = redis.client()) {
            RedisOptions options = redis.options().uri("redis://127.0.0.1:" + proxy.port()).stream(STREAM)
                    .partitions(2).partitionLeaseTtl(Duration.ofSeconds(2)).build();
            WorkerService s = service(options);
            try {
                client.xadd(STREAM, StreamEntryID.NEW_ENTRY, entry(0));
                Await.until(Duration.ofSeconds(30), () -> handled.size() == 1, () -> "handled " + handled.size());
                // The router acked that entry and waits for new ones.
                Await.until(Duration.ofSeconds(30), () -> {
                    List<RequestLogProxy.Request> log = proxy.log();
                    int ack = indexOf(log, 0, r -> r.has("XACK") && r.has(STREAM));
                    return ack >= 0 && indexOf(log, ack + 1, RouterWaitTest::isWait) > ack;
                }, () -> "the router to ack the first entry and wait for new ones");
                // From the ack of the next batch on, the next three transactions are aborted: the
                // lease key is written again before each MULTI goes on, after its WATCH ran.
                String lease = "{" + STREAM + "}:router";
                AtomicInteger toAbort = new AtomicInteger(3);
                List<RequestLogProxy.Request> aborted = new CopyOnWriteArrayList<>();
                AtomicBoolean acked = new AtomicBoolean();
                proxy.intercept(r -> {
                    if (r.has("XACK") && r.has(STREAM)) {
                        acked.set(true);
                    } else if (acked.get() && r.has("MULTI") && toAbort.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                        String value = client.get(lease);
                        client.set(lease, value, SetParams.setParams().keepTtl());
                        aborted.add(r);
                    }
                });
                // More than one batch, all at once: the first read takes a full batch and sees
                // the newest id; the rest are older than it and not delivered.
                int n = 1 + 2 * Router.batchFor(options.partitions());
                try (AbstractTransaction tx = client.multi()) {
                    for (int i = 1; i < n; i++) {
                        seedXadd(tx, i);
                    }
                    tx.exec();
                }
                Await.until(Duration.ofSeconds(30), () -> handled.size() == n, () -> "handled " + handled.size());
                assertEquals(3, aborted.size(), "three transactions were aborted");
                assertEquals(n, routed(client, options), "routed once each");
                assertEquals(n, handledTimes.get(), "handled once each");
                List<RequestLogProxy.Request> router = new ArrayList<>(routerRequests(proxy.log()));
                RequestLogProxy.Request last = aborted.get(2);
                int third = indexOf(router, 0, r -> r == last);
                assertTrue(third >= 0, "the aborted transactions were the router's");
                int nextRead = indexOf(router, third + 1, r -> r.has("MULTI") && r.has("XREADGROUP"));
                int wait = indexOf(router, third + 1, RouterWaitTest::isWait);
                assertTrue(nextRead > third, "the router read again after the aborted transactions");
                assertTrue(wait < 0 || wait > nextRead, "after three aborted reads the router waited for new entries"
                        + " (request " + wait + ") before it read the waiting ones (request " + nextRead + ")");
            } finally {
                s.close();
            }
        }
    }
}
