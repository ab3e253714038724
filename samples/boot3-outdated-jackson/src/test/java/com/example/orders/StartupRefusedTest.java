package com.example.orders;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Jackson 2.15 on the class path: the application stops at startup and says what to change. */
@ExtendWith(OutputCaptureExtension.class)
class StartupRefusedTest {

    @Test
    void refusesToStartNamingTheVersionNeededAndTheProperty(CapturedOutput output) {
        SpringApplication app = new SpringApplication(OrdersApplication.class);
        // no Redis is needed: the check runs before anything connects
        assertThrows(RuntimeException.class, () -> app.run("--server.port=0",
                "--workflow.worker.redis.url=redis://127.0.0.1:1"));
        String log = output.getAll();
        assertTrue(log.contains("APPLICATION FAILED TO START"), log);
        assertTrue(log.contains("workflow-worker needs jackson-databind 2.19.0 or newer, but this application has "
                + "jackson-databind 2.15.4 (Spring Boot 3.5.7)"), log);
        assertTrue(log.contains("Set the build property jackson-bom.version to 2.19.0 or newer"), log);
    }
}
