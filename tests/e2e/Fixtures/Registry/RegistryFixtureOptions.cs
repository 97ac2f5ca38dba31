namespace Crisp.E2E.Fixtures;

/// <summary>How to start a <see cref="RegistryFixture"/>. Basic auth (htpasswd, bcrypt) is on when both credentials are set.</summary>
public sealed record RegistryFixtureOptions
{
    public string? Username { get; init; }

    public string? Password { get; init; }

    /// <summary>Serve HTTPS with a certificate from a throwaway CA (see <see cref="RegistryFixture.CaCertificatePath"/>).</summary>
    public bool Tls { get; init; }

    /// <summary>How long to wait for <c>GET /v2/</c> to answer before giving up.</summary>
    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(20);

    public static RegistryFixtureOptions WithBasicAuth(string username, string password) =>
        new() { Username = username, Password = password };

    internal bool AuthEnabled
    {
        get
        {
            if (Username is null != Password is null)
            {
                throw new ArgumentException("RegistryFixtureOptions: set both Username and Password, or neither.");
            }

            return Username is not null;
        }
    }
}
