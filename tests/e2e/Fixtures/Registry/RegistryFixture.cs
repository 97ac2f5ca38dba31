using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace Crisp.E2E.Fixtures;

/// <summary>
/// A private docker-registry (distribution 2.8) on 127.0.0.1 with its own temp storage. Everything it created
/// (process, storage, config) is removed on dispose, and the process is killed at test-process exit as a fallback.
/// </summary>
public sealed class RegistryFixture : IAsyncDisposable
{
    private const string RegistryBinary = "/usr/bin/docker-registry";
    private const int MaxLogLines = 400;
    private const int StartAttempts = 3;
    private const string DirectoryPrefix = "crisp-e2e-registry-";
    private static int _sweptOrphans;

    private readonly Process _process;
    private readonly string _rootDirectory;
    private readonly ConcurrentQueue<string> _log;
    private readonly ConcurrentQueue<RegistryRequest> _requests;
    private readonly RegistryTlsMaterial? _tls;
    private int _disposed;
    private bool _exitedAtDispose;

    private RegistryFixture(Process process, ConcurrentQueue<string> log, ConcurrentQueue<RegistryRequest> requests, RegistryTlsMaterial? tls, string rootDirectory, int port, string storageDirectory, string? username, string? password)
    {
        _tls = tls;
        _process = process;
        _log = log;
        _requests = requests;
        _rootDirectory = rootDirectory;
        Port = port;
        StorageDirectory = storageDirectory;
        Username = username;
        Password = password;
    }

    /// <summary>"127.0.0.1:PORT", the registry part of an image reference.</summary>
    public string Host => $"127.0.0.1:{Port}";

    public int Port { get; }

    /// <summary>The registry's filesystem storage root (distribution's <c>rootdirectory</c>).</summary>
    public string StorageDirectory { get; }

    public string? Username { get; }

    public string? Password { get; }

    public bool RequiresAuth => Username is not null;

    /// <summary>"http://127.0.0.1:PORT/", or https:// when started with <see cref="RegistryFixtureOptions.Tls"/>.</summary>
    public Uri BaseUri => new($"{(UsesTls ? "https" : "http")}://{Host}/");

    public bool UsesTls => _tls is not null;

    /// <summary>PEM of the CA that issued the registry's certificate (TLS registries only).</summary>
    public string CaCertificatePath => _tls?.CaCertificatePath ?? throw new InvalidOperationException($"registry {Host} serves plain HTTP; start it with Tls = true");

    /// <summary>A directory holding only ca.crt, in the certs.d layout skopeo's --cert-dir and containerd's hosts.d use.</summary>
    public string CertificateDirectory => _tls?.CertificateDirectory ?? throw new InvalidOperationException($"registry {Host} serves plain HTTP; start it with Tls = true");

    /// <summary>True for a certificate issued by this registry's CA (false on a plain-HTTP registry).</summary>
    public bool ValidatesCertificate(System.Security.Cryptography.X509Certificates.X509Certificate? certificate) =>
        _tls is not null && _tls.Validates(certificate as System.Security.Cryptography.X509Certificates.X509Certificate2);

    /// <summary>An HttpClient for raw registry API calls; on a TLS registry it trusts exactly the fixture's CA.</summary>
    public HttpClient CreateHttpClient()
    {
        var handler = new HttpClientHandler();
        if (_tls is { } tls)
        {
            handler.ServerCertificateCustomValidationCallback = (_, certificate, _, _) => tls.Validates(certificate);
        }

        return new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>Credentials skopeo should use to push here, or null for an anonymous registry.</summary>
    public BasicCredentials? Credentials => Username is null ? null : new BasicCredentials(Username, Password!);

    /// <summary>The registry's recent stdout/stderr, for assertion messages.</summary>
    public string RecentLog => string.Join('\n', _log);

    /// <summary>
    /// Every request served so far, from the access log. A line lands a few milliseconds after the client saw the
    /// response, so poll (<see cref="WaitForRequestAsync"/>) rather than read once right after a pull.
    /// </summary>
    public IReadOnlyList<RegistryRequest> Requests => _requests.ToArray();

    /// <summary>Waits until a request matching <paramref name="match"/> has been logged; false on timeout.</summary>
    public async Task<bool> WaitForRequestAsync(Func<RegistryRequest, bool> match, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        var deadline = Stopwatch.StartNew();
        while (!_requests.Any(match))
        {
            if (deadline.Elapsed >= timeout)
            {
                return false;
            }

            await Task.Delay(20, cancellationToken);
        }

        return true;
    }

    /// <summary>Whether the registry process is gone (crashed, or killed by dispose).</summary>
    public bool HasExited => Volatile.Read(ref _disposed) != 0 ? _exitedAtDispose : _process.HasExited;

    public string Reference(string repository, string tag = "latest") => $"{Host}/{repository}:{tag}";

    /// <summary>
    /// Where the registry keeps a blob's bytes on disk, so a test can corrupt or delete it behind the registry's back.
    /// </summary>
    public string BlobPath(string digest)
    {
        const string prefix = "sha256:";
        if (!digest.StartsWith(prefix, StringComparison.Ordinal) || digest.Length != prefix.Length + 64)
        {
            throw new ArgumentException($"not a sha256 digest: '{digest}'", nameof(digest));
        }

        var hex = digest[prefix.Length..];
        return Path.Combine(StorageDirectory, "docker", "registry", "v2", "blobs", "sha256", hex[..2], hex, "data");
    }

    /// <summary>Flips one byte in the middle of a stored blob: the registry keeps serving it, with the wrong digest.</summary>
    public async Task CorruptBlobAsync(string digest, CancellationToken cancellationToken = default)
    {
        var path = BlobPath(digest);
        var bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        if (bytes.Length == 0)
        {
            throw new InvalidOperationException($"blob {digest} is empty; nothing to corrupt");
        }

        bytes[bytes.Length / 2] ^= 0xFF;
        await File.WriteAllBytesAsync(path, bytes, cancellationToken);
    }

    /// <summary>Deletes a manifest through the registry API (DELETE /v2/REPO/manifests/DIGEST): the tag stops resolving.</summary>
    public Task DeleteManifestAsync(string repository, string digest, CancellationToken cancellationToken = default) =>
        DeleteAsync($"v2/{repository}/manifests/{digest}", cancellationToken);

    /// <summary>Deletes a blob through the registry API (DELETE /v2/REPO/blobs/DIGEST): pulls needing it get 404.</summary>
    public Task DeleteBlobAsync(string repository, string digest, CancellationToken cancellationToken = default) =>
        DeleteAsync($"v2/{repository}/blobs/{digest}", cancellationToken);

    public static async Task<RegistryFixture> StartAsync(RegistryFixtureOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new RegistryFixtureOptions();
        var authEnabled = options.AuthEnabled;
        if (Interlocked.Exchange(ref _sweptOrphans, 1) == 0)
        {
            StaleRegistryProcesses.Kill(DirectoryPrefix);
            StaleTempDirectories.Sweep(DirectoryPrefix);
        }

        var rootDirectory = Directory.CreateTempSubdirectory($"{DirectoryPrefix}{Environment.ProcessId}-").FullName;
        ExitCleanup.TrackDirectory(rootDirectory);
        RegistryTlsMaterial? tls = null;
        try
        {
            var storageDirectory = Path.Combine(rootDirectory, "storage");
            Directory.CreateDirectory(storageDirectory);
            tls = options.Tls ? await RegistryTlsMaterial.CreateAsync(rootDirectory, cancellationToken) : null;
            string? htpasswdPath = null;
            if (authEnabled)
            {
                htpasswdPath = Path.Combine(rootDirectory, "htpasswd");
                await WriteHtpasswdAsync(htpasswdPath, options.Username!, options.Password!, cancellationToken);
            }

            Exception? lastFailure = null;
            for (var attempt = 1; attempt <= StartAttempts; attempt++)
            {
                // Another process may grab the picked port before the registry binds it; a fresh port fixes that.
                var port = FreeTcpPort.Pick();
                var configPath = Path.Combine(rootDirectory, "config.yml");
                await RegistryConfigFile.WriteAsync(configPath, port, storageDirectory, htpasswdPath, tls, cancellationToken);
                var log = new ConcurrentQueue<string>();
                var requests = new ConcurrentQueue<RegistryRequest>();
                var process = StartProcess(configPath, log, requests);
                var fixture = new RegistryFixture(process, log, requests, tls, rootDirectory, port, storageDirectory, options.Username, options.Password);
                try
                {
                    await fixture.WaitUntilServingAsync(options.StartTimeout, cancellationToken);
                    return fixture;
                }
                catch (RegistryStartException failure)
                {
                    lastFailure = failure;
                    fixture.StopProcess();
                }
                catch
                {
                    fixture.StopProcess();
                    throw;
                }
            }

            throw lastFailure!;
        }
        catch
        {
            tls?.Dispose();
            RemoveDirectory(rootDirectory);
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        StopProcess();
        try
        {
            await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            // The kill was sent; a zombie that takes longer must not hang test teardown.
        }

        _exitedAtDispose = _process.HasExited;
        _process.Dispose();
        _tls?.Dispose();
        RemoveDirectory(_rootDirectory);
    }

    private async Task DeleteAsync(string relativeUri, CancellationToken cancellationToken)
    {
        using var http = CreateHttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(BaseUri, relativeUri));
        if (Credentials is { } credentials)
        {
            var token = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(credentials.ToSkopeoArgument()));
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic", token);
        }

        using var response = await http.SendAsync(request, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Accepted)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new InvalidOperationException($"DELETE {relativeUri} on registry {Host} answered {(int)response.StatusCode}: {body}");
        }
    }

    private static async Task WriteHtpasswdAsync(string path, string username, string password, CancellationToken cancellationToken)
    {
        // distribution only accepts bcrypt entries (-B).
        var result = await ToolRunner.RunCheckedAsync("htpasswd", ["-Bbn", username, password], cancellationToken);
        await File.WriteAllTextAsync(path, result.StandardOutput.Trim() + "\n", cancellationToken);
    }

    private static Process StartProcess(string configPath, ConcurrentQueue<string> log, ConcurrentQueue<RegistryRequest> requests)
    {
        var startInfo = new ProcessStartInfo(RegistryBinary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        startInfo.ArgumentList.Add("serve");
        startInfo.ArgumentList.Add(configPath);
        // Stray REGISTRY_* variables in the test environment would silently override the config file.
        foreach (var name in startInfo.Environment.Keys.Where(k => k.StartsWith("REGISTRY_", StringComparison.Ordinal)).ToList())
        {
            startInfo.Environment.Remove(name);
        }

        var process = new Process { StartInfo = startInfo };
        process.OutputDataReceived += (_, e) =>
        {
            // The access log goes to stdout, one combined-format line per request.
            if (e.Data is not null && RegistryRequest.TryParse(e.Data) is { } request)
            {
                requests.Enqueue(request);
            }

            Append(log, e.Data);
        };
        process.ErrorDataReceived += (_, e) => Append(log, e.Data);
        if (!process.Start())
        {
            throw new InvalidOperationException($"could not start {RegistryBinary}");
        }

        ExitCleanup.Track(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static void Append(ConcurrentQueue<string> log, string? line)
    {
        if (line is null)
        {
            return;
        }

        log.Enqueue(line);
        while (log.Count > MaxLogLines && log.TryDequeue(out _))
        {
        }
    }

    private async Task WaitUntilServingAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = CreateHttpClient();
        http.Timeout = TimeSpan.FromSeconds(2);
        var deadline = Stopwatch.StartNew();
        var probe = new Uri(BaseUri, "v2/");
        string lastError = "no answer yet";
        while (deadline.Elapsed < timeout)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
            {
                throw new RegistryStartException($"docker-registry on {Host} exited with {_process.ExitCode} before serving. Log:\n{RecentLog}");
            }

            try
            {
                using var response = await http.GetAsync(probe, cancellationToken);
                // 401 is the healthy answer of a registry with auth enabled.
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Unauthorized)
                {
                    return;
                }

                lastError = $"GET /v2/ answered {(int)response.StatusCode}";
            }
            catch (HttpRequestException e)
            {
                lastError = e.Message;
            }
            catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                lastError = "GET /v2/ timed out";
            }

            await Task.Delay(50, cancellationToken);
        }

        throw new RegistryStartException($"docker-registry on {Host} did not serve /v2/ within {timeout} ({lastError}). Log:\n{RecentLog}");
    }

    private void StopProcess()
    {
        ToolRunner.KillQuietly(_process);
        ExitCleanup.Untrack(_process);
    }

    private static void RemoveDirectory(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }

        ExitCleanup.UntrackDirectory(path);
    }

    private sealed class RegistryStartException(string message) : Exception(message);
}
