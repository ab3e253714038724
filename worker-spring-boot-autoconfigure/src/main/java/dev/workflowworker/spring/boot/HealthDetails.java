package dev.workflowworker.spring.boot;

import dev.workflowworker.api.HealthSnapshot;
import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.core.WorkerService;

import java.util.LinkedHashMap;
import java.util.Map;

/** What both Boot generations' health indicators report: a status code and the snapshot as details. */
record HealthDetails(String status, Map<String, Object> details) {

    static final String UP = "UP";
    static final String DOWN = "DOWN";
    static final String UNKNOWN = "UNKNOWN";
    static final String OUT_OF_SERVICE = "OUT_OF_SERVICE";

    static HealthDetails of(WorkerService service) {
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("state", service.state().name().toLowerCase(java.util.Locale.ROOT));
        d.put("stream", service.stream());
        switch (service.state()) {
            case NEW:
                return new HealthDetails(UNKNOWN, d);
            case STOPPING:
            case TERMINATED:
                return new HealthDetails(OUT_OF_SERVICE, d);
            default:
                break;
        }
        HealthSnapshot s = service.health();
        d.put("status", s.status().jsonValue());
        d.put("workerCount", s.workerCount());
        d.put("healthyWorkers", s.healthyWorkers());
        d.put("degradedWorkers", s.degradedWorkers());
        d.put("unhealthyWorkers", s.unhealthyWorkers());
        d.put("eventsProcessed", s.eventsProcessed());
        d.put("eventsSucceeded", s.eventsSucceeded());
        d.put("eventsFailed", s.eventsFailed());
        d.put("eventsRetried", s.eventsRetried());
        d.put("eventsDeadLettered", s.eventsDeadLettered());
        d.put("duplicates", s.duplicates());
        d.put("activeEvents", s.activeEvents());
        d.put("timestamp", s.timestamp().toString());
        return new HealthDetails(s.status() == HealthStatus.UNHEALTHY ? DOWN : UP, d);
    }
}
