; Inno Setup script: installs dist\regview\ (built by regview-windows.spec) for the current user
; and registers the regview:// URL scheme, so shared view links open regview.
;   iscc packaging\regview-windows.iss        -> packaging\dist\regview-0.1.0-setup.exe
; Per-user install (no administrator rights): everything goes under HKCU and %LOCALAPPDATA%.

#define AppVersion "0.1.0"

[Setup]
AppId={{6B1E3C2A-6F0E-4D7B-9C1A-7E2F4B8D5A10}
AppName=regview
AppVersion={#AppVersion}
AppPublisher=regview
DefaultDirName={localappdata}\Programs\regview
DefaultGroupName=regview
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
OutputDir=dist
OutputBaseFilename=regview-{#AppVersion}-setup
SetupIconFile=..\resources\icons\regview.ico
UninstallDisplayIcon={app}\regview.exe
ArchitecturesInstallIn64BitMode=x64compatible
Compression=lzma2
SolidCompression=yes

[Files]
Source: "dist\regview\*"; DestDir: "{app}"; Flags: recursesubdirs ignoreversion

[Icons]
Name: "{userprograms}\regview"; Filename: "{app}\regview.exe"
Name: "{userdesktop}\regview"; Filename: "{app}\regview.exe"; Tasks: desktopicon

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; Flags: unchecked

[Registry]
; The URL scheme (Microsoft: "Registering an Application to a URI Scheme"):
;   HKCU\Software\Classes\regview                      (Default) = "URL:regview", URL Protocol = ""
;   HKCU\Software\Classes\regview\DefaultIcon          (Default) = "<app>\regview.exe",0
;   HKCU\Software\Classes\regview\shell\open\command   (Default) = "<app>\regview.exe" "%1"
Root: HKCU; Subkey: "Software\Classes\regview"; ValueType: string; ValueName: ""; ValueData: "URL:regview"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\regview"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\regview\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\regview.exe"",0"
Root: HKCU; Subkey: "Software\Classes\regview\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\regview.exe"" ""%1"""

[Run]
Filename: "{app}\regview.exe"; Description: "Start regview"; Flags: nowait postinstall skipifsilent
