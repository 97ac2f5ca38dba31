namespace Crisp.E2E.Fixtures;

/// <summary>Writes the distribution (docker-registry 2.8) YAML config for one fixture instance.</summary>
internal static class RegistryConfigFile
{
    public static async Task WriteAsync(string path, int port, string storageDirectory, string? htpasswdPath, RegistryTlsMaterial? tls, CancellationToken cancellationToken)
    {
        // No blob descriptor cache: tests that corrupt or delete blobs on disk must be seen immediately.
        // Deletes enabled so tests can remove manifests/blobs through the API as well.
        var yaml = $"""
            version: 0.1
            log:
              level: info
              formatter: text
              accesslog:
                disabled: false
            storage:
              filesystem:
                rootdirectory: {storageDirectory}
              delete:
                enabled: true
              maintenance:
                uploadpurging:
                  enabled: false
            http:
              addr: 127.0.0.1:{port}
              headers:
                X-Content-Type-Options: [nosniff]
            """;
        if (tls is not null)
        {
            yaml += $"""

                  tls:
                    certificate: {tls.ServerCertificatePath}
                    key: {tls.ServerKeyPath}
                """;
        }

        if (htpasswdPath is not null)
        {
            yaml += $"""

                auth:
                  htpasswd:
                    realm: crisp-test-realm
                    path: {htpasswdPath}
                """;
        }

        await File.WriteAllTextAsync(path, yaml + "\n", cancellationToken);
    }
}
