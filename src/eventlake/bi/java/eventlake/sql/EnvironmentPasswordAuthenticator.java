package eventlake.sql;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

import javax.security.sasl.AuthenticationException;

import org.apache.hive.service.auth.PasswdAuthenticationProvider;

/**
 * HiveServer2 CUSTOM authentication for the SQL endpoint: one user and password, read from the
 * server's environment (EVENTLAKE_SQL_USER, default "bi", and EVENTLAKE_SQL_PASSWORD), never
 * from a file or a Spark setting that SET or the Spark UI could show.
 */
public final class EnvironmentPasswordAuthenticator implements PasswdAuthenticationProvider {

    @Override
    public void Authenticate(String user, String password) throws AuthenticationException {
        String expectedPassword = System.getenv("EVENTLAKE_SQL_PASSWORD");
        if (expectedPassword == null || expectedPassword.isEmpty()) {
            throw new AuthenticationException("the SQL endpoint has no password set");
        }
        String expectedUser = System.getenv().getOrDefault("EVENTLAKE_SQL_USER", "bi");
        // Both compared in full and in constant time (digests of equal length), so neither
        // the timing nor an early exit tells a caller which of the two was wrong.
        boolean sameUser = MessageDigest.isEqual(digest(user), digest(expectedUser));
        boolean samePassword = MessageDigest.isEqual(digest(password), digest(expectedPassword));
        if (!(sameUser & samePassword)) {
            throw new AuthenticationException("wrong user or password");
        }
    }

    private static byte[] digest(String text) {
        try {
            return MessageDigest.getInstance("SHA-256")
                .digest((text == null ? "" : text).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException impossible) {
            throw new IllegalStateException(impossible);
        }
    }
}
