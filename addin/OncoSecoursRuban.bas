Attribute VB_Name = "OncoSecoursRuban"
' OncoSecours : le module des boutons du ruban (un seul module, un nom propre au projet).
'
' Chaque bouton de l'onglet OncoSecours appelle OncoSecoursClic ; l'attribut tag du bouton nomme
' l'action Python exécutée par xlwings (RunPython -> oncosecours.excel.ribbon.run). Toute la
' logique est en Python : ce module ne fait que demander qui travaille et lancer l'action.
'
' Le code PIN n'est jamais écrit dans le classeur : il reste en mémoire quelques minutes
' (PIN_MINUTES) pour les mêmes initiales et passe à Python par une variable d'environnement du
' processus Excel (ONCOSECOURS_PIN), effacée dès que l'action est terminée.
' Les variables ONCOSECOURS_USER et ONCOSECOURS_DIR (dossier du classeur, utilisé par
' xlwings.conf pour trouver le Python du kit) passent de la même façon.
'
' Si les macros sont bloquées, chaque bouton a une commande équivalente :
'   oncosecours <commande> --store <base> --user <initiales>   (voir le guide rapide).
Option Explicit

Private Const TITRE As String = "OncoSecours"
Private Const PIN_MINUTES As Double = 10
' Actions qui ne demandent pas de code PIN (lecture seule) ; doit rester égal au registre Python.
Private Const SANS_PIN As String = "|journal|verifier_integrite|reprise_chimio|rapprochement|archiver|"
Private Const FEUILLE_ACCUEIL As String = "Accueil"
Private Const NOM_UTILISATEUR As String = "OS_Utilisateur"
Private Const NOM_AUTH As String = "OS_Auth"

Private mInitiales As String
Private mPin As String
Private mDernierUsage As Date

' Le rappel unique de tous les boutons du ruban (onAction="OncoSecoursClic").
Public Sub OncoSecoursClic(control As IRibbonControl)
    OncoSecoursLancer control.Tag
End Sub

' Lance une action par son nom (aussi utilisable depuis Alt+F8 ou un bouton de feuille).
Public Sub OncoSecoursLancer(ByVal action As String)
    Dim initiales As String
    Dim retour As Variant
    If Not NomValide(action) Then
        MsgBox "Action inconnue : « " & action & " ».", vbExclamation, TITRE
        Exit Sub
    End If
    initiales = UtilisateurSaisi()
    If InStr(1, SANS_PIN, "|" & action & "|", vbBinaryCompare) = 0 Then
        If initiales = "" Then
            MsgBox "Saisissez d'abord vos initiales dans la feuille Accueil (case « Utilisateur »).", _
                vbExclamation, TITRE
            Exit Sub
        End If
        If Not PinEnMemoire(initiales) Then
            If Not DemanderPin(initiales) Then Exit Sub
        End If
        DefinirVariable "ONCOSECOURS_PIN", mPin
    End If
    DefinirVariable "ONCOSECOURS_USER", initiales
    DefinirVariable "ONCOSECOURS_DIR", ThisWorkbook.Path
    Application.StatusBar = "OncoSecours : action en cours..."
    On Error GoTo Echec
    retour = RunPython("import oncosecours.excel.ribbon as r; r.run('" & action & "')")
    On Error GoTo 0
    EffacerVariable "ONCOSECOURS_PIN"
    If retour = -1 Then Application.StatusBar = False
    If RetourAuth() = "refuse" Then OncoSecoursOublierPin
    Exit Sub
Echec:
    EffacerVariable "ONCOSECOURS_PIN"
    Application.StatusBar = False
    MsgBox "L'action n'a pas pu être lancée (" & Err.Description & ")." & vbCrLf & _
        "Si les macros ou Python sont bloqués sur ce poste, utilisez la commande " & _
        "« oncosecours » (voir le guide rapide).", vbCritical, TITRE
End Sub

' Oublie le code PIN gardé en mémoire (changement d'utilisateur, PIN refusé).
Public Sub OncoSecoursOublierPin()
    mInitiales = ""
    mPin = ""
    mDernierUsage = 0
End Sub

' Macro de contrôle : ne touche ni Python ni la base (tests automatiques, dépannage). Vérifie que
' le filtre des noms d'action accepte un nom du ruban et refuse une tentative d'injection.
Public Function OncoSecoursDiagnostic() As String
    If NomValide("verifier_integrite") And Not NomValide("x'); import os; os.system('calc") _
        And Not NomValide("") Then
        OncoSecoursDiagnostic = "OncoSecours : ruban OK"
    Else
        OncoSecoursDiagnostic = "OncoSecours : filtre des actions défaillant"
    End If
End Function

Private Function NomValide(ByVal action As String) As Boolean
    Dim i As Long, c As String
    NomValide = (Len(action) > 0 And Len(action) <= 40)
    For i = 1 To Len(action)
        c = Mid$(action, i, 1)
        If Not ((c >= "a" And c <= "z") Or (c >= "0" And c <= "9") Or c = "_") Then
            NomValide = False
            Exit Function
        End If
    Next i
End Function

Private Function UtilisateurSaisi() As String
    On Error Resume Next
    UtilisateurSaisi = UCase$(Trim$(CStr(ThisWorkbook.Worksheets(FEUILLE_ACCUEIL).Range(NOM_UTILISATEUR).Value)))
    On Error GoTo 0
End Function

Private Function PinEnMemoire(ByVal initiales As String) As Boolean
    If mPin = "" Or mInitiales <> initiales Then Exit Function
    If (Now - mDernierUsage) * 24 * 60 > PIN_MINUTES Then
        OncoSecoursOublierPin
        Exit Function
    End If
    mDernierUsage = Now
    PinEnMemoire = True
End Function

Private Function DemanderPin(ByVal initiales As String) As Boolean
    Dim pin As String
    pin = InputBox("Code PIN de " & initiales & " :" & vbCrLf & vbCrLf & _
        "(gardé en mémoire " & PIN_MINUTES & " minutes, jamais enregistré dans le classeur)", TITRE)
    If pin = "" Then Exit Function
    mInitiales = initiales
    mPin = pin
    mDernierUsage = Now
    DemanderPin = True
End Function

Private Function RetourAuth() As String
    On Error Resume Next
    RetourAuth = CStr(ThisWorkbook.Names(NOM_AUTH).RefersToRange.Value)
    On Error GoTo 0
End Function

Private Sub DefinirVariable(ByVal nom As String, ByVal valeur As String)
    ' Variable du processus Excel (WScript.Shell est chargé dans Excel) : héritée par le
    ' processus Python que RunPython lance juste après, jamais écrite sur le disque.
    Dim env As Object
    Set env = CreateObject("WScript.Shell").Environment("Process")
    env(nom) = valeur
End Sub

Private Sub EffacerVariable(ByVal nom As String)
    On Error Resume Next
    CreateObject("WScript.Shell").Environment("Process").Remove nom
    On Error GoTo 0
End Sub
