using Crisp.ImageService.Api;
using Crisp.ImageService.Manifests;
using Crisp.ImageService.References;
using Crisp.ImageService.Registry;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Crisp.ImageService.Tests.RegistryTests;

/// <summary>
/// Credentials travel only over TLS, or in plain HTTP to the registry host itself when that host
/// is spoken to in plain HTTP anyway. The realm here is the same server under another name
/// (localhost instead of 127.0.0.1), which is another host as far as the client can tell.
/// </summary>
public sealed class RegistryCredentialChannelTests : IAsyncLifetime
{
    private static readonly Platform Amd64 = new("linux", "amd64");

    private FakeRegistry _registry = null!;
    private RegistryClient _client = null!;

    public async Task InitializeAsync()
    {
        _registry = await FakeRegistry.StartAsync();
        _client = new RegistryClient(RegistryConfiguration.Empty, NullLogger<RegistryClient>.Instance,
            new RegistryClientOptions { RetryBaseDelay = TimeSpan.FromMilliseconds(1) }, TimeProvider.System);
        TinyImage.Push(_registry);
        _registry.Auth = FakeRegistry.AuthMode.Bearer;
        _registry.IdentityToken = "refresh-me";
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _registry.DisposeAsync();
    }

    private ImageReference Reference => ImageReference.Parse($"{_registry.Host}/app:v1");

    private string OtherHostRealm => $"http://localhost:{new Uri($"http://{_registry.Host}").Port}/token";

    public static TheoryData<string> Secrets => ["password", "identity token"];

    private static RegistryCredentials CredentialsWith(string secret) =>
        secret == "password" ? new RegistryCredentials("user", "secret") : new RegistryCredentials(IdentityToken: "refresh-me");

    [Theory]
    [MemberData(nameof(Secrets))]
    public async Task CredentialsAreNotSentInPlainHttpToARealmOnAnotherHost(string secret)
    {
        _registry.TokenRealm = OtherHostRealm;

        var error = await Assert.ThrowsAsync<ImageServiceException>(() =>
            _client.ResolveAsync(Reference, Amd64, CredentialsWith(secret), CancellationToken.None));

        Assert.Equal(ImageErrorKind.FailedPrecondition, error.Kind);
        Assert.Contains($"at token realm {OtherHostRealm} over plain HTTP", error.Message);
        Assert.DoesNotContain(_registry.Requests, r => r.Path == "/token");
    }

    [Fact]
    public async Task AnonymousPullsStillUseAPlainHttpRealmElsewhere()
    {
        _registry.TokenRealm = OtherHostRealm;

        await _client.ResolveAsync(Reference, Amd64, null, CancellationToken.None);

        FakeRegistry.Recorded token = Assert.Single(_registry.Requests, r => r.Path == "/token");
        Assert.Null(token.Authorization);
    }

    [Theory]
    [MemberData(nameof(Secrets))]
    public async Task CredentialsGoInPlainHttpToTheLoopbackRegistryItself(string secret)
    {
        await _client.ResolveAsync(Reference, Amd64, CredentialsWith(secret), CancellationToken.None);

        Assert.Single(_registry.Requests, r => r.Path == "/token");
    }

    [Theory]
    [MemberData(nameof(Secrets))]
    public async Task CredentialsGoInPlainHttpToATokenServiceOnAnotherPortOfTheSameLoopbackHost(string secret)
    {
        await using FakeRegistry tokenService = await FakeRegistry.StartAsync();
        tokenService.TokenHandler = context => context.Response.WriteAsJsonAsync(new { token = "accepted", access_token = "accepted" });
        _registry.RegistryToken = "accepted";
        _registry.TokenRealm = $"http://{tokenService.Host}/token";

        await _client.ResolveAsync(Reference, Amd64, CredentialsWith(secret), CancellationToken.None);

        FakeRegistry.Recorded token = Assert.Single(tokenService.Requests, r => r.Path == "/token");
        Assert.True(token.Authorization is not null || token.Body is not null, "the token request carried no credentials");
    }
}
