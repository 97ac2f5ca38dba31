using Crisp.Cri.V1;
using Crisp.E2E.Daemon;
using Crisp.E2E.Fixtures;
using Grpc.Core;
using Xunit;

namespace Crisp.E2E.Images;

/// <summary>
/// The Docker token flow over the socket: crispd gets a 401 with a Bearer challenge, asks the token
/// service named in it (with or without the AuthConfig credentials) and pulls with the token.
/// </summary>
public sealed class BearerTokenTests : IAsyncLifetime
{
    private const string Password = "t0ken-s3cret";
    private const string RefreshToken = "crisp-refresh-token-0123";
    private const string RegistryToken = "crisp-static-registry-token-4567";

    private RegistryWithImages _registry = null!;
    private CrispDaemon _daemon = null!;

    public async Task InitializeAsync()
    {
        _registry = await RegistryWithImages.GetSharedAsync();
        _daemon = await CrispDaemon.StartAsync();
    }

    public async Task DisposeAsync() => await _daemon.DisposeAsync();

    private Task<PullImageResponse> PullAsync(string reference, AuthConfig? auth = null)
    {
        var request = new PullImageRequest { Image = new ImageSpec { Image = reference } };
        if (auth is not null) request.Auth = auth;
        return _daemon.Images.PullImageAsync(request).ResponseAsync;
    }

    private static void AssertEveryServedRequestCarriedAToken(TokenAuthRegistryFront front) =>
        Assert.All(front.RegistryRequests.Where(r => r.Status != 401), r => Assert.True(r.Authorized, $"{r.Method} {r.Path} was served without a token"));

    [Fact]
    public async Task An_anonymous_pull_fetches_a_token_for_the_challenged_scope_and_pulls_with_it()
    {
        await using var front = TokenAuthRegistryFront.Start(_registry.Registry);
        PushedImage multilayer = _registry[TestImageNames.Multilayer];
        string reference = front.Reference("crisp-test/multilayer");

        PullImageResponse pulled = await PullAsync(reference);

        Assert.Equal(multilayer.Image.ImageId, pulled.ImageRef);
        var token = Assert.Single(front.TokenRequests, t => t.Status == 200);
        Assert.Equal(TokenAuthRegistryFront.Service, token.Service);
        Assert.Equal("repository:crisp-test/multilayer:pull", token.Scope);
        Assert.False(token.HadBasicCredentials);
        Assert.Contains(front.RegistryRequests, r => r.Status == 401); // the challenge came first
        Assert.Equal(multilayer.Image.Layers.Count, front.RegistryRequests.Count(r => r.Authorized && r.Path.Contains("/blobs/sha256:", StringComparison.Ordinal) && r.Path != $"/v2/crisp-test/multilayer/blobs/{multilayer.Image.ConfigDigest}"));
        AssertEveryServedRequestCarriedAToken(front);
        Assert.Contains(reference, (await _daemon.Images.ImageStatusAsync(new ImageStatusRequest { Image = new ImageSpec { Image = reference } })).Image.RepoTags);
    }

    [Fact]
    public async Task A_private_registry_refuses_missing_and_wrong_credentials_and_stores_nothing()
    {
        await using var front = TokenAuthRegistryFront.Start(_registry.Registry, new BasicCredentials("puller", Password));
        string reference = front.Reference("crisp-test/busybox");

        var missing = await Assert.ThrowsAsync<RpcException>(() => PullAsync(reference));
        var wrong = await Assert.ThrowsAsync<RpcException>(() => PullAsync(reference, new AuthConfig { Username = "puller", Password = "not-the-password" }));

        Assert.Equal(StatusCode.Unauthenticated, missing.StatusCode);
        Assert.Contains(front.Host, missing.Status.Detail);
        Assert.Contains("crisp-test/busybox", missing.Status.Detail);
        Assert.Equal(StatusCode.Unauthenticated, wrong.StatusCode);
        Assert.Contains(front.Host, wrong.Status.Detail);
        Assert.Contains(front.TokenRequests, t => t.HadBasicCredentials && t.Status == 401);
        Assert.DoesNotContain(front.RegistryRequests, r => r.Authorized);
        Assert.DoesNotContain("not-the-password", _daemon.Output);
        await ImageLayout.AssertNothingStoredAsync(_daemon);
    }

    [Fact]
    public async Task Username_and_password_from_AuthConfig_buy_a_token_and_are_never_logged()
    {
        await using var front = TokenAuthRegistryFront.Start(_registry.Registry, new BasicCredentials("puller", Password));
        string reference = front.Reference("crisp-test/busybox");

        PullImageResponse pulled = await PullAsync(reference, new AuthConfig { Username = "puller", Password = Password });

        Assert.Equal(_registry[TestImageNames.Busybox].Image.ImageId, pulled.ImageRef);
        Assert.Contains(front.TokenRequests, t => t.HadBasicCredentials && t.Status == 200 && t.Scope == "repository:crisp-test/busybox:pull");
        AssertEveryServedRequestCarriedAToken(front);
        Assert.DoesNotContain(Password, _daemon.Output);
    }

    [Fact]
    public async Task An_identity_token_is_exchanged_for_an_access_token()
    {
        await using var front = TokenAuthRegistryFront.Start(_registry.Registry, new BasicCredentials("puller", Password), refreshToken: RefreshToken);
        string reference = front.Reference("crisp-test/busybox");

        PullImageResponse pulled = await PullAsync(reference, new AuthConfig { IdentityToken = RefreshToken });

        Assert.Equal(_registry[TestImageNames.Busybox].Image.ImageId, pulled.ImageRef);
        Assert.Contains(front.TokenRequests, t => t is { Method: "POST", HadRefreshToken: true, Status: 200 });
        AssertEveryServedRequestCarriedAToken(front);
        Assert.DoesNotContain(RefreshToken, _daemon.Output);
    }

    [Fact]
    public async Task A_registry_token_is_sent_as_the_bearer_token_without_asking_the_token_service()
    {
        await using var front = TokenAuthRegistryFront.Start(_registry.Registry, new BasicCredentials("puller", Password), staticToken: RegistryToken);
        string reference = front.Reference("crisp-test/busybox");

        PullImageResponse pulled = await PullAsync(reference, new AuthConfig { RegistryToken = RegistryToken });

        Assert.Equal(_registry[TestImageNames.Busybox].Image.ImageId, pulled.ImageRef);
        Assert.Empty(front.TokenRequests);
        Assert.DoesNotContain(RegistryToken, _daemon.Output);
    }
}
