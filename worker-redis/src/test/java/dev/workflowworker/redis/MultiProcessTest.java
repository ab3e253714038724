package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Workers in separate JVM processes coordinating only through Redis. */
@ExtendWith(RedisServerExtension.class)
class MultiProcessTest {

    private static final Duration PROCESS_WAIT = Duration.ofSeconds(60);
    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void stopProcesses() throws InterruptedException {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private Process startWorker(RedisServer redis, String mode, Duration claimIdle, String name) throws IOException {
        // A short lease, so that the lock of a killed process expires quickly.
        Duration lockTtl = Duration.ofSeconds(2);
        Path logs = Path.of("target", "worker-processes");
        Files.createDirectories(logs);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "-Xmx128m", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"),
                WorkerProcessMain.class.getName(), redis.uri(), mode, Long.toString(claimIdle.toMillis()),
                Long.toString(lockTtl.toMillis()))
                .redirectErrorStream(true)
                .redirectOutput(logs.resolve(name + ".log").toFile())
                .start();
        processes.add(p);
        return p;
    }

    private static void stopGracefully(Process p) throws Exception {
        p.getOutputStream().close();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "worker process did not stop after its input closed");
        assertEquals(0, p.exitValue());
    }

    @Test
    void twoWorkerProcessesShareAStreamAndCompleteEachEventOnce(RedisServer redis) throws Exception {
        int events = 200;
        Process a = startWorker(redis, "work", Duration.ofSeconds(30), "shared-a");
        Process b = startWorker(redis, "work", Duration.ofSeconds(30), "shared-b");
        try (RedisEventTransport producer = RedisEventTransport.create(redis.options().partitions(0).build());
             RedisClient c = redis.client()) {
            Await.until(PROCESS_WAIT, () -> c.scard(WorkerProcessMain.STARTED) == 2, "both processes to start");
            List<WorkflowEvent> batch = new ArrayList<>();
            for (int i = 0; i < events; i++) {
                batch.add(WorkflowEvent.builder("WORK").eventId("p" + i).executionId("exec-" + (i % 10)).build());
            }
            producer.publishAll(batch);

            Await.until(PROCESS_WAIT,
                    () -> c.exists(WorkerProcessMain.SUCCEEDED) && c.llen(WorkerProcessMain.SUCCEEDED) >= events,
                    events + " successes");

            List<String> succeeded = c.lrange(WorkerProcessMain.SUCCEEDED, 0, -1);
            assertEquals(events, succeeded.size());
            assertEquals(events, new HashSet<>(succeeded).size(), "an event succeeded twice");
            Map<String, String> runs = c.hgetAll(WorkerProcessMain.RUNS);
            assertEquals(events, runs.size());
            assertTrue(runs.values().stream().allMatch("1"::equals), "an event ran twice: " + runs);
            assertEquals(2, c.scard(WorkerProcessMain.HANDLED_BY), "both processes took part");
        }
        stopGracefully(a);
        stopGracefully(b);
    }

    @Test
    void eventOfAProcessKilledMidEventIsReclaimedAndCompletedOnceByAnother(RedisServer redis) throws Exception {
        Duration claimIdle = Duration.ofSeconds(1);
        Process doomed = startWorker(redis, "hang", claimIdle, "doomed");
        try (RedisEventTransport producer = RedisEventTransport.create(redis.options().partitions(0).build());
             RedisClient c = redis.client()) {
            producer.publish(WorkflowEvent.builder("WORK").eventId("victim").build());
            Await.until(PROCESS_WAIT, () -> "victim".equals(c.get(WorkerProcessMain.HANGING)),
                    "the doomed process to start the event");

            doomed.destroyForcibly();
            assertTrue(doomed.waitFor(10, TimeUnit.SECONDS));
            Process rescuer = startWorker(redis, "work", claimIdle, "rescuer");

            Await.until(PROCESS_WAIT,
                    () -> c.exists(WorkerProcessMain.SUCCEEDED) && c.llen(WorkerProcessMain.SUCCEEDED) >= 1,
                    "the rescuer to complete the event");
            assertEquals(List.of("victim"), c.lrange(WorkerProcessMain.SUCCEEDED, 0, -1));
            assertEquals("2", c.hget(WorkerProcessMain.RUNS, "victim"), "started by the doomed process, completed by the rescuer");
            assertEquals(0, c.xpending("workflow:events:global", "workflow-processors").getTotal());
            stopGracefully(rescuer);
        }
    }
}
