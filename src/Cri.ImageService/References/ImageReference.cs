using System.Diagnostics.CodeAnalysis;
using Crisp.ImageService.Api;

namespace Crisp.ImageService.References;

/// <summary>
/// A normalised image reference: registry, repository, optional tag and digest. Normalisation
/// follows Docker's rules (what the kubelet and crictl expect): "busybox" is
/// "docker.io/library/busybox:latest".
/// </summary>
public sealed class ImageReference : IEquatable<ImageReference>
{
    public const string DockerHubRegistry = "docker.io";
    public const string DefaultTag = "latest";

    /// <summary>The host Docker Hub's registry API actually answers on.</summary>
    public const string DockerHubApiHost = "registry-1.docker.io";

    private ImageReference(string registry, string repository, string? tag, string? digest)
    {
        Registry = registry;
        Repository = repository;
        Tag = tag;
        Digest = digest;
    }

    /// <summary>"docker.io", "127.0.0.1:5000", "[::1]:5000".</summary>
    public string Registry { get; }

    /// <summary>"library/busybox".</summary>
    public string Repository { get; }

    /// <summary>The tag; "latest" when the text named neither tag nor digest.</summary>
    public string? Tag { get; }

    /// <summary>"sha256:&lt;hex&gt;" when the reference pins a digest.</summary>
    public string? Digest { get; }

    /// <summary>"docker.io/library/busybox".</summary>
    public string Name => Registry + "/" + Repository;

    public bool IsDockerHub => Registry == DockerHubRegistry;

    public static ImageReference Parse(string text)
    {
        string? reason = TryParseCore(text, out ImageReference? reference);
        if (reason is not null)
        {
            throw new ImageServiceException(ImageErrorKind.InvalidArgument, $"invalid image reference \"{text}\": {reason}");
        }
        return reference!;
    }

    public static bool TryParse(string text, [NotNullWhen(true)] out ImageReference? reference) =>
        TryParseCore(text, out reference) is null;

    /// <summary>Canonical form: name[:tag][@digest].</summary>
    public override string ToString()
    {
        string text = Name;
        if (Tag is not null)
        {
            text += ":" + Tag;
        }
        if (Digest is not null)
        {
            text += "@" + Digest;
        }
        return text;
    }

    /// <summary>"name:tag", or null when the reference has no tag.</summary>
    public string? TaggedName => Tag is null ? null : Name + ":" + Tag;

    /// <summary>"name@digest", or null when the reference has no digest.</summary>
    public string? DigestedName => Digest is null ? null : Name + "@" + Digest;

    public ImageReference WithDigest(string digest)
    {
        string? reason = Digests.Validate(digest);
        if (reason is not null)
        {
            throw new ImageServiceException(ImageErrorKind.InvalidArgument, $"invalid digest \"{digest}\" for image {Name}: {reason}");
        }
        return new ImageReference(Registry, Repository, Tag, digest);
    }

    public ImageReference WithoutDigest() => new(Registry, Repository, Tag, null);

    public ImageReference WithTag(string tag)
    {
        if (!IsValidTag(tag))
        {
            throw new ImageServiceException(ImageErrorKind.InvalidArgument, $"invalid tag \"{tag}\" for image {Name}");
        }
        return new ImageReference(Registry, Repository, tag, Digest);
    }

    public ImageReference WithoutTag() => new(Registry, Repository, null, Digest);

    public bool Equals(ImageReference? other) =>
        other is not null && Registry == other.Registry && Repository == other.Repository && Tag == other.Tag && Digest == other.Digest;

    public override bool Equals(object? obj) => Equals(obj as ImageReference);

    public override int GetHashCode() => HashCode.Combine(Registry, Repository, Tag, Digest);

    private const int MaxNameLength = 255;
    private const int MaxTagLength = 128;

    private static string? TryParseCore(string? text, out ImageReference? reference)
    {
        reference = null;
        if (string.IsNullOrEmpty(text))
        {
            return "reference is empty";
        }
        if (text.Trim() != text || text.Any(char.IsWhiteSpace))
        {
            return "reference contains whitespace";
        }

        string remainder = text;
        string? digest = null;
        int at = remainder.IndexOf('@');
        if (at >= 0)
        {
            digest = remainder[(at + 1)..];
            remainder = remainder[..at];
            string? digestReason = Digests.Validate(digest);
            if (digestReason is not null)
            {
                return digestReason;
            }
        }

        string? tag = null;
        int lastColon = remainder.LastIndexOf(':');
        if (lastColon >= 0 && lastColon > remainder.LastIndexOf('/'))
        {
            tag = remainder[(lastColon + 1)..];
            remainder = remainder[..lastColon];
            if (!IsValidTag(tag))
            {
                return $"invalid tag \"{tag}\"";
            }
        }

        if (remainder.Length == 0)
        {
            return "repository name is empty";
        }
        if (digest is null && tag is null && remainder.Length == 64 && remainder.All(char.IsAsciiHexDigitLower))
        {
            // Docker refuses these because they are indistinguishable from image ids.
            return "a 64-character hexadecimal string is an image id, not a reference";
        }

        (string registry, string repository) = SplitRegistry(remainder);
        string? registryReason = ValidateRegistry(registry);
        if (registryReason is not null)
        {
            return registryReason;
        }
        string? repositoryReason = ValidateRepository(repository);
        if (repositoryReason is not null)
        {
            return repositoryReason;
        }
        if (registry.Length + 1 + repository.Length > MaxNameLength)
        {
            return $"name longer than {MaxNameLength} characters";
        }

        if (tag is null && digest is null)
        {
            tag = DefaultTag;
        }
        reference = new ImageReference(registry, repository, tag, digest);
        return null;
    }

    private static (string Registry, string Repository) SplitRegistry(string name)
    {
        string registry;
        string repository;
        int slash = name.IndexOf('/');
        string first = slash < 0 ? "" : name[..slash];
        if (slash < 0 || !LooksLikeHost(first))
        {
            registry = DockerHubRegistry;
            repository = name;
        }
        else
        {
            registry = first;
            repository = name[(slash + 1)..];
        }

        if (registry is "index.docker.io" or DockerHubApiHost)
        {
            registry = DockerHubRegistry;
        }
        if (registry == DockerHubRegistry && !repository.Contains('/'))
        {
            repository = "library/" + repository;
        }
        return (registry, repository);
    }

    // Docker's rule: a first component is a host when it has a dot or a port, is "localhost", or
    // has upper-case letters (which a repository component never may).
    private static bool LooksLikeHost(string component) =>
        component.Contains('.') || component.Contains(':') || component == "localhost" || component.Any(char.IsAsciiLetterUpper);

    internal static bool IsValidTag(string tag)
    {
        if (tag.Length == 0 || tag.Length > MaxTagLength)
        {
            return false;
        }
        if (!IsWordChar(tag[0]))
        {
            return false;
        }
        foreach (char c in tag)
        {
            if (!IsWordChar(c) && c != '.' && c != '-')
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    private static string? ValidateRegistry(string registry)
    {
        string host = registry;
        string? port = null;
        if (registry.StartsWith('['))
        {
            int close = registry.IndexOf(']');
            if (close < 0)
            {
                return $"invalid registry host \"{registry}\"";
            }
            host = registry[1..close];
            string rest = registry[(close + 1)..];
            if (rest.Length > 0)
            {
                if (rest[0] != ':')
                {
                    return $"invalid registry host \"{registry}\"";
                }
                port = rest[1..];
            }
            if (!System.Net.IPAddress.TryParse(host, out var address) || address.AddressFamily != System.Net.Sockets.AddressFamily.InterNetworkV6)
            {
                return $"invalid IPv6 registry address \"{registry}\"";
            }
        }
        else
        {
            int colon = registry.IndexOf(':');
            if (colon >= 0)
            {
                host = registry[..colon];
                port = registry[(colon + 1)..];
            }
            foreach (string label in host.Split('.'))
            {
                if (label.Length == 0 || label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c == '-'))
                {
                    return $"invalid registry host \"{registry}\"";
                }
            }
        }
        if (port is not null && (port.Length == 0 || port.Length > 5 || !port.All(char.IsAsciiDigit) || int.Parse(port, System.Globalization.CultureInfo.InvariantCulture) > 65535))
        {
            return $"invalid registry port in \"{registry}\"";
        }
        return null;
    }

    private static string? ValidateRepository(string repository)
    {
        if (repository.Any(char.IsAsciiLetterUpper))
        {
            return "repository name must be lowercase";
        }
        foreach (string component in repository.Split('/'))
        {
            if (!IsValidPathComponent(component))
            {
                return component.Length == 0
                    ? "repository name has an empty path component"
                    : $"invalid repository path component \"{component}\"";
            }
        }
        return null;
    }

    // [a-z0-9]+ ( ( "." | "_" | "__" | "-"+ ) [a-z0-9]+ )*
    private static bool IsValidPathComponent(string component)
    {
        int i = 0;
        int n = component.Length;
        if (n == 0)
        {
            return false;
        }
        while (true)
        {
            int start = i;
            while (i < n && (char.IsAsciiLetterLower(component[i]) || char.IsAsciiDigit(component[i])))
            {
                i++;
            }
            if (i == start)
            {
                return false;
            }
            if (i == n)
            {
                return true;
            }
            char separator = component[i];
            if (separator == '.')
            {
                i++;
            }
            else if (separator == '_')
            {
                i++;
                if (i < n && component[i] == '_')
                {
                    i++;
                }
            }
            else if (separator == '-')
            {
                while (i < n && component[i] == '-')
                {
                    i++;
                }
            }
            else
            {
                return false;
            }
        }
    }
}
