using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Crisp.E2E.Fixtures;

/// <summary>
/// A throwaway CA and a server certificate for 127.0.0.1/localhost, written as PEM files. The CA sits alone in
/// <see cref="CertificateDirectory"/> because certs.d-style readers (skopeo --cert-dir) treat any *.key there
/// as a client key.
/// </summary>
internal sealed class RegistryTlsMaterial : IDisposable
{
    private RegistryTlsMaterial(X509Certificate2 authority, string certificateDirectory, string serverCertificatePath, string serverKeyPath)
    {
        Authority = authority;
        CertificateDirectory = certificateDirectory;
        ServerCertificatePath = serverCertificatePath;
        ServerKeyPath = serverKeyPath;
    }

    public X509Certificate2 Authority { get; }

    public string CertificateDirectory { get; }

    public string CaCertificatePath => Path.Combine(CertificateDirectory, "ca.crt");

    public string ServerCertificatePath { get; }

    public string ServerKeyPath { get; }

    public static async Task<RegistryTlsMaterial> CreateAsync(string directory, CancellationToken cancellationToken)
    {
        var notBefore = DateTimeOffset.UtcNow.AddDays(-1);
        var notAfter = DateTimeOffset.UtcNow.AddDays(7);

        using var authorityKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var authorityRequest = new CertificateRequest("CN=crisp e2e test CA", authorityKey, HashAlgorithmName.SHA256);
        authorityRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        authorityRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        authorityRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(authorityRequest.PublicKey, false));
        var authority = authorityRequest.CreateSelfSigned(notBefore, notAfter);

        using var serverKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", serverKey, HashAlgorithmName.SHA256);
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        names.AddDnsName("localhost");
        serverRequest.CertificateExtensions.Add(names.Build());
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(authority, true, false));
        using var server = serverRequest.Create(authority, notBefore, notAfter, RandomNumberGenerator.GetBytes(16));

        var certificateDirectory = Path.Combine(directory, "certs.d");
        Directory.CreateDirectory(certificateDirectory);
        var material = new RegistryTlsMaterial(authority, certificateDirectory, Path.Combine(directory, "server.crt"), Path.Combine(directory, "server.key"));
        await File.WriteAllTextAsync(material.CaCertificatePath, authority.ExportCertificatePem() + "\n", cancellationToken);
        await File.WriteAllTextAsync(material.ServerCertificatePath, server.ExportCertificatePem() + "\n", cancellationToken);
        await File.WriteAllTextAsync(material.ServerKeyPath, serverKey.ExportPkcs8PrivateKeyPem() + "\n", cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(material.ServerKeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return material;
    }

    /// <summary>Accepts exactly the certificates our CA issued.</summary>
    public bool Validates(X509Certificate2? certificate)
    {
        if (certificate is null)
        {
            return false;
        }

        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Authority);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    public void Dispose() => Authority.Dispose();
}
