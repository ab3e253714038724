package dev.workflowworker.api.archfixture;

/** Breaks the api's JDK-only rule: a logger from a library. */
public class ApiUsingALibrary {
    org.slf4j.Logger log;
}
