package dev.workflowworker.spring.boot;

import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;

import java.util.Optional;

/**
 * Explains a startup failure caused by a library version the workers cannot run with: the version
 * needed and the one build property that fixes it. Covers the check made when the auto-configuration
 * starts ({@link UnsupportedDependencyVersionException}) and a {@link LinkageError}
 * ({@code NoSuchMethodError}, {@code NoClassDefFoundError}, ...) raised in workflow-worker code
 * against a library Boot manages; any other failure is left to Boot's own analyzers.
 */
public final class DependencyVersionFailureAnalyzer implements FailureAnalyzer {

    /** Creates the analyzer; Spring Boot instantiates it from {@code META-INF/spring.factories}. */
    public DependencyVersionFailureAnalyzer() {
    }

    @Override
    public FailureAnalysis analyze(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof UnsupportedDependencyVersionException unsupported) {
                return new FailureAnalysis(unsupported.getMessage(), unsupported.action(), unsupported);
            }
            if (t instanceof LinkageError linkage && raisedInWorkflowWorker(linkage)) {
                return linkageAnalysis(linkage, SharedLibrary.runningBoot());
            }
        }
        return null;
    }

    static FailureAnalysis linkageAnalysis(LinkageError error, String bootVersion) {
        String missing = String.valueOf(error.getMessage());
        Optional<SharedLibrary> library = SharedLibrary.owning(missing);
        if (library.isEmpty()) {
            return new FailureAnalysis("workflow-worker was built against a different version of a library on "
                    + "this class path: " + error, "Align the version of the library that provides the class named "
                    + "above with the one workflow-worker declares (see its POM); Spring Boot's dependency management "
                    + "may have replaced it.", error);
        }
        SharedLibrary lib = library.get();
        String found = lib.versionOnClassPath().orElse("of unknown version");
        return new FailureAnalysis("workflow-worker needs " + lib.name() + " " + lib.minimum() + " or newer, but this "
                + "application has " + lib.name() + " " + found + " (Spring Boot " + bootVersion + "), which lacks "
                + missing + " (" + error.getClass().getSimpleName() + ")", lib.action(bootVersion), error);
    }

    private static boolean raisedInWorkflowWorker(LinkageError error) {
        for (StackTraceElement frame : error.getStackTrace()) {
            if (frame.getClassName().startsWith("dev.workflowworker.")) {
                return true;
            }
        }
        return false;
    }
}
