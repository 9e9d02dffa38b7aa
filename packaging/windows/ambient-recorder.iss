; Inno Setup 6 script for Ambient Recorder (Windows installer).
;
; Build on Windows, after `scripts\package.sh` (or the PyInstaller command in
; it) has produced dist\ambient-recorder\:
;   iscc /DAppVersion=0.1.0 packaging\windows\ambient-recorder.iss
; Output: dist\AmbientRecorder-<version>-setup.exe
;
; Per-user install by default (no admin rights: %LOCALAPPDATA%\Programs), or
; per-machine (Program Files) when run elevated with /ALLUSERS or chosen in the
; dialog. Silent installs for practice IT (see docs/INSTALL.md):
;   AmbientRecorder-0.1.0-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /CURRENTUSER /NORESTART
;   AmbientRecorder-0.1.0-setup.exe /VERYSILENT /SUPPRESSMSGBOXES /ALLUSERS /NORESTART
;
; Uninstall never deletes recordings silently: when the user's data folder holds
; recordings, the uninstaller asks (default: keep); a silent uninstall keeps them.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\ambient-recorder"
#endif
#define AppName "Ambient Recorder"
#define AppExe "AmbientRecorder.exe"
#define CliExe "ambient-recorder.exe"
; platformdirs.user_data_dir("AmbientRecorder", appauthor=False) on Windows
#define DataFolderName "AmbientRecorder"

[Setup]
; Never change AppId: upgrades and uninstall find the installed copy by it.
AppId={{6B1E5C8A-3F0D-4C57-9E3A-8A7B2D41C9E5}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Ambient Recorder
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog commandline
UsedUserAreasWarning=no
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
MinVersion=10.0
OutputDir=..\..\dist
OutputBaseFilename=AmbientRecorder-{#AppVersion}-setup
SetupIconFile={#SourceDir}\_internal\icons\ambient-recorder.ico
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
; Close a running app (Restart Manager) so its files can be replaced or removed.
CloseApplications=yes
RestartApplications=no
SetupLogging=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; WorkingDir: "{app}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[Code]
{ The user's data folder: AMBIENT_RECORDER_DATA_DIR if set, else %LOCALAPPDATA%\AmbientRecorder. }
function DataDir(): String;
begin
  Result := GetEnv('AMBIENT_RECORDER_DATA_DIR');
  if Result = '' then
    Result := ExpandConstant('{localappdata}\{#DataFolderName}');
end;

{ Counts the files below Dir (recursively); stops counting at Limit. }
function CountFiles(const Dir: String; Limit: Integer): Integer;
var
  Rec: TFindRec;
begin
  Result := 0;
  if not DirExists(Dir) then
    exit;
  if FindFirst(AddBackslash(Dir) + '*', Rec) then
  begin
    try
      repeat
        if (Rec.Name <> '.') and (Rec.Name <> '..') then
        begin
          if (Rec.Attributes and FILE_ATTRIBUTE_DIRECTORY) <> 0 then
            Result := Result + CountFiles(AddBackslash(Dir) + Rec.Name, Limit - Result)
          else
            Result := Result + 1;
        end;
      until (Result >= Limit) or not FindNext(Rec);
    finally
      FindClose(Rec);
    end;
  end;
end;

{ True when the data folder holds recorded audio: chunk files in the spool or a crash journal. }
function HasRecordings(const Dir: String): Boolean;
begin
  Result := (CountFiles(AddBackslash(Dir) + 'spool', 1) > 0)
    or FileExists(AddBackslash(Dir) + 'journal.bin');
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Dir: String;
  Answer: Integer;
begin
  if CurUninstallStep <> usPostUninstall then
    exit;
  Dir := DataDir();
  if not HasRecordings(Dir) then
    exit;
  { Silent uninstall (practice IT, /VERYSILENT or /SILENT): always keep the recordings. }
  if UninstallSilent() then
  begin
    Log('Recordings kept in ' + Dir + ' (silent uninstall never deletes them).');
    exit;
  end;
  Answer := MsgBox('Ambient Recorder still holds recordings in' + #13#10 + Dir + #13#10#13#10 +
    'Some of them may not have been uploaded yet. If unsure, keep them: after reinstalling, ' +
    '"ambient-recorder spool" lists what was not uploaded and "ambient-recorder resume" ' +
    'sends it.' + #13#10#13#10 +
    'Keep the recordings on this computer?' + #13#10 +
    '  Yes - keep them (recommended)' + #13#10 +
    '  No - delete them permanently',
    mbConfirmation, MB_YESNO or MB_DEFBUTTON1);
  if Answer <> IDNO then
  begin
    Log('Recordings kept in ' + Dir + ' (user chose to keep them).');
    exit;
  end;
  { Deleting patient audio cannot be undone: ask a second time, again defaulting to keep. }
  if MsgBox('Delete all recordings in' + #13#10 + Dir + #13#10 +
    'permanently? Audio that was not uploaded will be lost.',
    mbError, MB_YESNO or MB_DEFBUTTON2) = IDYES then
  begin
    if DelTree(Dir, True, True, True) then
      Log('Recordings deleted from ' + Dir + ' at the user''s request.')
    else
      MsgBox('Some files in ' + Dir + ' could not be deleted; remove the folder by hand.',
        mbError, MB_OK);
  end
  else
    Log('Recordings kept in ' + Dir + ' (user did not confirm deletion).');
end;
