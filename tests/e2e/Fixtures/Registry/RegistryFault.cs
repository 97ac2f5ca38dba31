namespace Crisp.E2E.Fixtures;

/// <summary>What a <see cref="RegistryProxy"/> does to a request it intercepts.</summary>
public enum RegistryFault
{
    /// <summary>Forwarded untouched.</summary>
    None,

    /// <summary>Answered with an error status (e.g. 503) without reaching the registry.</summary>
    ErrorStatus,

    /// <summary>Blob body cut after some bytes: the connection is reset mid-download.</summary>
    CutBody,

    /// <summary>Blob body stops after some bytes and the connection stays open, silent, until the client gives up.</summary>
    StallBody,
}
