using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("OpenVision.Tests")]
[assembly: InternalsVisibleTo("OpenVision.Training")]
[assembly: InternalsVisibleTo("OpenVision.Training.Tests")]
[assembly: InternalsVisibleTo("OpenVision.Lab")]
