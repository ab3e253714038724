package dev.workflowworker.redis;

import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import dev.workflowworker.core.schedule.Schedule;
import dev.workflowworker.core.schedule.Schedules;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.util.JedisClusterCRC16;

import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A schedule deletion whose reply is lost is sent again with the same call id (the transport
 * resends a call once after a connection failure): the resend must answer what the first call
 * did. Before the marker, the resend found nothing and answered "not there", so
 * {@code Schedules.delete} said false for a schedule it had deleted, and a schedule moving to
 * another partition lost the state it carried and started afresh.
 */
@ExtendWith(RedisServerExtension.class)
class ScheduleDeleteLostReplyTest {

    private static final String DEFS = "{s#0}:sched";
    private static final String STATES = "{s#0}:sched:st";
    private static final String DUE = "{s#0}:sched:due";
    private static final String RUNS = "{s#0}:sched:run";

    private static Object delete(RedisClient c, String id, String callId, long markerMs) {
        return c.eval(TimeScriptsTest.script("schedule_delete.lua"),
                List.of(DEFS, STATES, DUE, RUNS, "{s#0}:sched:dx:" + callId), List.of(id, Long.toString(markerMs)));
    }

    private static void schedule(RedisClient c, String id, String state) {
        c.hset(DEFS, id, "{}");
        c.hset(STATES, id, state);
        c.zadd(DUE, 1000, id);
        c.hset(RUNS, id, "1-0");
    }

    @Test
    void theResendOfADeletionAnswersTheStateTheFirstCallTook(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            schedule(c, "s", "5000,3,1,4000,-9223372036854775808,=s:4000");
            assertEquals("5000,3,1,4000,-9223372036854775808,=s:4000", delete(c, "s", "call-1", 60_000));
            // The reply above is the one lost: the same call again.
            assertEquals("5000,3,1,4000,-9223372036854775808,=s:4000", delete(c, "s", "call-1", 60_000),
                    "the resend answers the state the deletion took, not \"not there\"");
            assertEquals(0, c.hlen(DEFS) + c.hlen(STATES) + c.zcard(DUE) + c.hlen(RUNS));
            assertNull(delete(c, "s", "call-2", 60_000), "another call finds nothing");
        }
    }

    @Test
    void theResendOfADeletionThatFoundNothingStillAnswersNothing(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            assertNull(delete(c, "unknown", "call-1", 60_000));
            // A schedule of that id created between the lost reply and the resend is not the first call's to delete.
            schedule(c, "unknown", "1,0,0,0,0,");
            assertNull(delete(c, "unknown", "call-1", 60_000));
            assertEquals("1,0,0,0,0,", c.hget(STATES, "unknown"), "left alone");
        }
    }

    @Test
    void theMarkerIsInThePartitionsSlotAndShortLived(RedisServer redis) {
        try (RedisClient c = redis.client()) {
            schedule(c, "s", "st");
            delete(c, "s", "call-1", 60_000);
            assertEquals(JedisClusterCRC16.getSlot(DEFS), JedisClusterCRC16.getSlot("{s#0}:sched:dx:call-1"),
                    "one slot with the schedule's keys, so the script runs on a cluster");
            long ttl = c.pttl("{s#0}:sched:dx:call-1");
            assertTrue(ttl > 0 && ttl <= 60_000, "expires: " + ttl);
            schedule(c, "t", "st");
            delete(c, "t", "call-2", 1);
            // PX 1: gone within a few milliseconds; bounded wait, not a sleep-and-hope.
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (c.exists("{s#0}:sched:dx:call-2") && System.nanoTime() < deadline) {
                Thread.onSpinWait();
            }
            assertFalse(c.exists("{s#0}:sched:dx:call-2"), "the marker expires");
        }
    }

    /**
     * Through the API: a proxy between the transport and Redis forwards the deletion, lets Redis
     * run it and drops its reply, closing the connection. The transport sends the call again on a
     * new connection, with the same call id, and answers true.
     */
    @Test
    void theApiAnswersTrueForADeletionWhoseReplyWasLost(RedisServer redis) throws Exception {
        java.net.URI u = java.net.URI.create(redis.uri());
        try (ReplyProxy proxy = new ReplyProxy(u.getHost(), u.getPort());
             RedisEventTransport t = RedisEventTransport.create(RedisOptions.builder()
                     .uri("redis://127.0.0.1:" + proxy.port()).partitions(4).build());
             RedisClient c = redis.client()) {
            Schedules schedules = t.schedules().orElseThrow();
            // Loads the script first: a dropped NOSCRIPT answer would prove nothing.
            schedules.put(Schedule.every("warm", Duration.ofHours(1)).eventType("T").build());
            assertTrue(schedules.delete("warm"));
            schedules.put(Schedule.every("s", Duration.ofHours(1)).eventType("T").build());

            int markers = c.keys("*sched:dx:*").size();
            proxy.dropReplyTo("sched:dx:");
            assertTrue(schedules.delete("s"), "the resend answers what the deletion did");
            assertEquals(1, proxy.dropped(), "one reply was lost");
            assertTrue(schedules.get("s").isEmpty());
            assertEquals(markers + 1, c.keys("*sched:dx:*").size(), "one call, one marker: the resend carried the same call id");
        }
    }
}
