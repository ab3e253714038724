package dev.workflowworker.benchmarks;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.memory.InMemoryEventTransport;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** WorkerService on the in-memory transport (locks, markers, outcomes on) vs a bare ThreadPoolExecutor. */
final class InMemoryScenario {

    private InMemoryScenario() {
    }

    /** Configurations tried: workers x concurrency x batch. */
    static final String DEFAULT_CONFIGS = "2x8x64,2x64x256,1x256x512";

    static List<BenchmarkMain.Row> run(int n, String configList) throws Exception {
        double bestExec = 0;
        double bestService = 0;
        String bestNote = "";
        int[][] configs = java.util.Arrays.stream(configList.split(","))
                .map(c -> java.util.Arrays.stream(c.trim().split("x")).mapToInt(Integer::parseInt).toArray())
                .toArray(int[][]::new);
        for (int round = 0; round < 3; round++) {
            bestExec = Math.max(bestExec, executor(n));
            for (int[] c : configs) {
                double rate = service(n, c[0], c[1], c[2]);
                if (rate > bestService) {
                    bestService = rate;
                    bestNote = c[0] + " workers x " + c[1] + ", batch " + c[2];
                }
            }
        }
        return List.of(
                new BenchmarkMain.Row("in-memory", "ThreadPoolExecutor no-op tasks", bestExec, "ops/s",
                        "8 threads, best of 3"),
                new BenchmarkMain.Row("in-memory", "WorkerService no-op events", bestService, "events/s",
                        bestNote + "; best of 3 rounds over " + configList),
                new BenchmarkMain.Row("in-memory", "ratio service/executor", bestService / bestExec, "x",
                        "target >= 0.5"));
    }

    private static double executor(int n) throws Exception {
        ThreadPoolExecutor ex = new ThreadPoolExecutor(8, 8, 1, TimeUnit.SECONDS, new LinkedBlockingQueue<>());
        CountDownLatch done = new CountDownLatch(n);
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            ex.execute(done::countDown);
        }
        done.await();
        double rate = n / ((System.nanoTime() - t0) / 1e9);
        ex.shutdown();
        return rate;
    }

    private static double service(int n, int workers, int concurrency, int batch) throws Exception {
        CountDownLatch done = new CountDownLatch(n);
        InMemoryEventTransport transport = InMemoryEventTransport.create();
        List<WorkflowEvent> events = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            events.add(WorkflowEvent.builder("NOOP").executionId("x" + (i % 1000)).build());
        }
        transport.publishAll(events);
        WorkerService service = WorkerService.builder().transport(transport).runtime(ctx -> done.countDown())
                .workerCount(workers).concurrencyLimit(concurrency).batchSize(batch).pollInterval(Duration.ofMillis(100))
                .metricsReportingInterval(Duration.ofHours(1)).build();
        long t0 = System.nanoTime();
        service.start();
        done.await();
        double rate = n / ((System.nanoTime() - t0) / 1e9);
        service.close();
        return rate;
    }
}
