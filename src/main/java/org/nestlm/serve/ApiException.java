package org.nestlm.serve;

/**
 * A request the server refuses, with the HTTP status and the OpenAI-style error body
 * {@code {"error": {"message", "type", "param", "code"}}}.
 *
 * @see OpenAiServer
 */
final class ApiException extends RuntimeException {

    final int status;
    final String param;   // the offending request field, or null
    final String code;    // machine-readable code, or null

    ApiException(int status, String message, String param, String code) {
        super(message);
        this.status = status;
        this.param = param;
        this.code = code;
    }

    /** 400: a missing, mistyped or out-of-range field. */
    static ApiException badField(String param, String message) {
        return new ApiException(400, message, param, "invalid_value");
    }

    String type() {
        return switch (status) {
            case 404 -> "model_not_found".equals(code) ? "invalid_request_error" : "not_found_error";
            case 429 -> "rate_limit_error";
            case 500, 503 -> "server_error";
            default -> "invalid_request_error";
        };
    }
}
