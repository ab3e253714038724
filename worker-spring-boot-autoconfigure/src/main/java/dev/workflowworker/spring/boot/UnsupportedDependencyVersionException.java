package dev.workflowworker.spring.boot;

/**
 * The application's Spring Boot dependency management put a version of a library on the class path
 * that the workers are not built to run with. Thrown while the context starts, so the application
 * fails at once, with the version needed and the property that sets it, instead of failing at the
 * first event.
 */
public final class UnsupportedDependencyVersionException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final transient String action;

    UnsupportedDependencyVersionException(String description, String action) {
        super(description);
        this.action = action;
    }

    /** {@return what fixes it: the build property to set and its value} */
    public String action() {
        return action;
    }

    /** Fails when a shared library on the class path is older than the oldest version tested. */
    static void requireSupportedVersions() {
        String boot = SharedLibrary.runningBoot();
        for (SharedLibrary library : SharedLibrary.ALL) {
            library.versionOnClassPath().ifPresent(found -> requireSupported(library, found, boot));
        }
    }

    static void requireSupported(SharedLibrary library, String found, String bootVersion) {
        if (!SharedLibrary.atLeast(found, library.minimum())) {
            throw new UnsupportedDependencyVersionException("workflow-worker needs " + library.name() + " "
                    + library.minimum() + " or newer, but this application has " + library.name() + " " + found
                    + " (Spring Boot " + bootVersion + ")", library.action(bootVersion));
        }
    }
}
