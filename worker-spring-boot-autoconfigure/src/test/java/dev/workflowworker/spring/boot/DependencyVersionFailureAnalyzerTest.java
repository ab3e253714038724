package dev.workflowworker.spring.boot;

import com.fasterxml.jackson.databind.cfg.PackageVersion;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.BeanCreationException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.core.io.support.SpringFactoriesLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** What a user reads when Boot's dependency management gave the workers a library they cannot run with. */
class DependencyVersionFailureAnalyzerTest {

    private static final SharedLibrary JACKSON = SharedLibrary.ALL.get(0);
    private final DependencyVersionFailureAnalyzer analyzer = new DependencyVersionFailureAnalyzer();

    @Test
    void anOlderJacksonFailsNamingTheVersionNeededAndTheBoot3Property() {
        var thrown = assertThrows(UnsupportedDependencyVersionException.class,
                () -> UnsupportedDependencyVersionException.requireSupported(JACKSON, "2.15.4", "3.5.7"));
        FailureAnalysis analysis = analyzer.analyze(new BeanCreationException("workflowWorkerAutoConfiguration", thrown));
        assertNotNull(analysis);
        assertEquals("workflow-worker needs jackson-databind 2.19.0 or newer, but this application has "
                + "jackson-databind 2.15.4 (Spring Boot 3.5.7)", analysis.getDescription());
        assertTrue(analysis.getAction().startsWith("Set the build property jackson-bom.version to 2.19.0 or newer"),
                analysis.getAction());
    }

    @Test
    void onBoot4TheJackson2PropertyIsNamed() {
        var thrown = assertThrows(UnsupportedDependencyVersionException.class,
                () -> UnsupportedDependencyVersionException.requireSupported(JACKSON, "2.18.6", "4.0.7"));
        assertTrue(thrown.action().startsWith("Set the build property jackson-2-bom.version to 2.19.0"), thrown.action());
    }

    @Test
    void theVersionsBootManagesPass() {
        for (String supported : new String[] {"2.19.0", "2.19.2", "2.21.4", "2.20.0-rc1", "3.0.0"}) {
            UnsupportedDependencyVersionException.requireSupported(JACKSON, supported, "3.5.7");
        }
        for (String older : new String[] {"2.18.9", "2.9.10", "1.99.0"}) {
            assertThrows(UnsupportedDependencyVersionException.class,
                    () -> UnsupportedDependencyVersionException.requireSupported(JACKSON, older, "3.5.7"), older);
        }
    }

    @Test
    void theClassPathOfTheseTestsPasses() {
        UnsupportedDependencyVersionException.requireSupportedVersions();
        assertEquals(PackageVersion.VERSION.toString(), JACKSON.versionOnClassPath().orElseThrow());
    }

    @Test
    void aMissingMethodOfAManagedLibraryInOurCodeNamesTheLibraryAndProperty() {
        NoSuchMethodError error = new NoSuchMethodError(
                "'com.fasterxml.jackson.core.StreamReadConstraints com.fasterxml.jackson.core.JsonFactory.streamReadConstraints()'");
        error.setStackTrace(new StackTraceElement[] {
                new StackTraceElement("dev.workflowworker.core.internal.EventCodec", "<init>", "EventCodec.java", 42)});
        FailureAnalysis analysis = analyzer.analyze(new BeanCreationException("workerService", error));
        assertNotNull(analysis);
        assertTrue(analysis.getDescription().startsWith("workflow-worker needs jackson-databind 2.19.0 or newer, but "
                + "this application has jackson-databind " + PackageVersion.VERSION), analysis.getDescription());
        assertTrue(analysis.getDescription().endsWith("(NoSuchMethodError)"), analysis.getDescription());
        // jackson-bom.version on Boot 3, jackson-2-bom.version on Boot 4 (these tests run on both)
        String property = JACKSON.property(SharedLibrary.runningBoot());
        assertTrue(analysis.getAction().startsWith("Set the build property " + property + " to 2.19.0"),
                analysis.getAction());
    }

    @Test
    void aMissingClassIsTracedToItsLibrary() {
        NoClassDefFoundError error = new NoClassDefFoundError("io/micrometer/core/instrument/binder/BaseUnits");
        error.setStackTrace(new StackTraceElement[] {
                new StackTraceElement("dev.workflowworker.micrometer.WorkflowWorkerMetrics", "bindTo", null, -1)});
        FailureAnalysis analysis = DependencyVersionFailureAnalyzer.linkageAnalysis(error, "3.5.7");
        assertTrue(analysis.getDescription().startsWith("workflow-worker needs micrometer-core 1.15.0"),
                analysis.getDescription());
        assertTrue(analysis.getAction().contains("micrometer.version"), analysis.getAction());
    }

    @Test
    void failuresOutsideOurCodeAreLeftToBoot() {
        NoSuchMethodError foreign = new NoSuchMethodError("'void com.fasterxml.jackson.databind.ObjectMapper.x()'");
        foreign.setStackTrace(new StackTraceElement[] {
                new StackTraceElement("com.example.App", "main", "App.java", 1)});
        assertNull(analyzer.analyze(foreign));
        assertNull(analyzer.analyze(new IllegalStateException("unrelated")));
    }

    @Test
    void bootFindsTheAnalyzer() {
        // Boot's own analyzers want constructor arguments Boot supplies; only ours matters here
        SpringFactoriesLoader.FailureHandler skipOthers = (type, name, failure) -> { };
        assertFalse(SpringFactoriesLoader.forDefaultResourceLocation(getClass().getClassLoader())
                .load(FailureAnalyzer.class, skipOthers).stream()
                .noneMatch(DependencyVersionFailureAnalyzer.class::isInstance));
    }
}
