package org.nestlm.serve;

/**
 * Connection limits of the JDK HTTP server, which reads them once per process from system properties when the
 * first server starts: a request's headers and body must arrive within {@link #REQUEST_TIMEOUT_PROPERTY}
 * seconds (a connection that sends part of a request and stalls is closed), and at most
 * {@link #MAX_CONNECTIONS_PROPERTY} connections are open at once (further ones are closed on accept). Values
 * set before (by {@code serve --request-timeout / --max-connections} or {@code -D}) are kept.
 */
public final class ServerLimits {

    /** Seconds allowed to receive a request's headers and body. */
    public static final String REQUEST_TIMEOUT_PROPERTY = "sun.net.httpserver.maxReqTime";
    /** Most open connections. */
    public static final String MAX_CONNECTIONS_PROPERTY = "jdk.httpserver.maxConnections";

    public static final int DEFAULT_REQUEST_TIMEOUT_SECONDS = 30;
    public static final int DEFAULT_MAX_CONNECTIONS = 512;

    private ServerLimits() {
    }

    /** Sets the limits for this process unless already set; call before the first server starts. */
    public static void configure(int requestTimeoutSeconds, int maxConnections) {
        if (requestTimeoutSeconds < 1) {
            throw new IllegalArgumentException("--request-timeout must be at least 1 second, got " + requestTimeoutSeconds);
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("--max-connections must be at least 1, got " + maxConnections);
        }
        if (System.getProperty(REQUEST_TIMEOUT_PROPERTY) == null) {
            System.setProperty(REQUEST_TIMEOUT_PROPERTY, Integer.toString(requestTimeoutSeconds));
        }
        if (System.getProperty(MAX_CONNECTIONS_PROPERTY) == null) {
            System.setProperty(MAX_CONNECTIONS_PROPERTY, Integer.toString(maxConnections));
        }
    }

    /** The defaults, unless set. */
    static void apply() {
        configure(DEFAULT_REQUEST_TIMEOUT_SECONDS, DEFAULT_MAX_CONNECTIONS);
    }
}
